"""The per-epoch orders: a keyed Feistel permutation of range(n), computed on the device from a
few round keys (O(n), no sort, the same bits on every backend)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxgd._errors import InputError


def run_keys(seed):
    """The two keys a training run draws from ``seed``: (initial parameters, epoch orders)."""
    return jax.random.split(jax.random.key(seed))


def _feistel_rounds(bits):
    # Small domains have few bits per half and need more rounds to mix; the counts are
    # checked by a chi-square test of position x value frequencies (tests/test_data.py).
    # Large domains mix in fewer rounds, and there the rounds are most of the cost.
    return 12 if bits <= 16 else 6


def _bijection(keys, bits):
    """A keyed bijection of [0, 2**bits): an unbalanced Feistel network.

    The round function is multiplicative hashing (the top bits of (right + key) * 2^32/phi,
    xored with the key): three integer ops, which keeps a round cheap enough to run on every
    element each epoch.
    """

    def permute(x):
        a, b = bits // 2, bits - bits // 2  # widths of the left and right halves
        for key in keys:
            left, right = x >> b, x & jnp.uint32((1 << b) - 1)
            mixed = (((right + key) * jnp.uint32(0x9E3779B1)) ^ key) >> (32 - a)
            x = (right << a) | (left ^ mixed)
            a, b = b, a
        return x

    return permute


def _domain_bits(n):
    return max(2, int(np.ceil(np.log2(n))))


def _fmix32(h):
    # MurmurHash3's 32-bit finaliser: a well-mixing bijection of uint32.
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def epoch_round_keys(order_key, epoch, n):
    """The Feistel round keys of ``epoch``: all the randomness of that epoch's order.

    Hashed (MurmurHash3's finaliser) from the order key's two words, the epoch and the round
    rather than drawn with threefry: the same bits everywhere, and it keeps the compile time of
    a run down (XLA:CPU took ~0.5 s to compile threefry for the keys, the rest of a run ~0.4 s).
    """
    rounds = _feistel_rounds(_domain_bits(n))
    words = jax.random.key_data(order_key).astype(jnp.uint32)
    epoch = jnp.asarray(epoch).astype(jnp.uint32)
    base = _fmix32(words[0] ^ _fmix32(words[1] ^ (epoch * jnp.uint32(0x9E3779B9))))
    round_ids = jnp.arange(1, rounds + 1, dtype=jnp.uint32)
    return _fmix32(base ^ _fmix32(round_ids * jnp.uint32(0x85EBCA6B)))


def permutation(round_keys, n):
    """The permutation of range(n) that ``round_keys`` select.

    Not a sort: each position is mapped through a keyed pseudo-random bijection of the
    smallest power-of-two domain >= n (a Feistel network), and values that land outside
    [0, n) walk the cycle until they land inside (Black and Rogaway's cycle walking), which
    keeps it a bijection of [0, n). O(n) elementwise work with no sort, no host round trip and
    the same bits on every backend; XLA's CPU sort is ~10x slower at n = 1000.
    """
    return permutation_at(round_keys, n, jnp.arange(n, dtype=jnp.uint32))


def permutation_at(round_keys, n, positions):
    """``permutation(round_keys, n)[positions]``, computed for those positions only.

    Each position is mapped on its own (the network, then the cycle walk), so the values at a
    batch's positions cost O(batch), not O(n): what a process holding a shard of the rows
    computes for each batch. ``positions``: integers in [0, n), any shape.
    """
    bits = _domain_bits(n)
    permute = _bijection([round_keys[r] for r in range(round_keys.shape[0])], bits)
    x = jnp.asarray(positions).astype(jnp.uint32)
    if n == (1 << bits):
        return permute(x).astype(jnp.int32)

    # Every value is mapped once, then those outside [0, n) again until inside: written as one
    # loop so the network appears once in the program (it dominates the compile time).
    def walk(state):
        x, pending = state
        x = jnp.where(pending, permute(x), x)
        return x, x >= n

    x, _ = jax.lax.while_loop(lambda s: jnp.any(s[1]), walk, (x, jnp.ones(x.shape, bool)))
    return x.astype(jnp.int32)


def epoch_order(order_key, epoch, n):
    """The permutation of range(n) used in ``epoch``; a pure function of (key, epoch, n)."""
    return permutation(epoch_round_keys(order_key, epoch, n), n)


@functools.partial(jax.jit, static_argnames=("n", "epochs"))
def _epoch_orders(seed, n, epochs):
    order_key = run_keys(seed)[1]
    return jax.vmap(lambda e: epoch_order(order_key, e, n))(jnp.arange(epochs))


def epoch_orders(seed, n, epochs):
    """The per-epoch permutations that ``jaxgd.train(..., seed=seed)`` uses, shape (epochs, n).

    Row ``e`` is the order in which epoch ``e`` visits the samples. Feed these to another
    framework (``torchref.train(..., orders=...)``) to replay a jaxgd run exactly.
    Full-batch GD sums over every sample each update, so there the order only changes the
    summation order and ``train`` does not draw it.
    """
    if int(n) != n or n < 1 or int(epochs) != epochs or epochs < 1:
        raise InputError(f"n and epochs must be positive integers, got n={n!r}, epochs={epochs!r}")
    return _epoch_orders(seed, n=int(n), epochs=int(epochs))
