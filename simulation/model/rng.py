"""Named random streams with common random numbers at the level of a pupil.

One ``SeedSequence`` per replicate; each mechanism asks for a stream by name, and
its key is spawned from the replicate seed and the name alone, so adding a stream
shifts no other. Draws for pupils are counter-based: a pure function of (stream,
pupil id, counter), computed with the SplitMix64 finaliser. A pupil therefore
gets the same numbers from a mechanism whatever happens to other pupils, which is
what makes paired scenario comparisons measure policy rather than noise.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (in place, wrapping arithmetic)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


_MASK = (1 << 64) - 1


def _scalar_mix(value: int) -> int:
    """SplitMix64 finaliser on one Python int (no array overhead for the per-call key)."""
    x = value & _MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _to_unit(x: np.ndarray) -> np.ndarray:
    """The top 53 bits of each mixed word as a float in [0, 1)."""
    return (x >> _S11).astype(np.float64) * _TO_UNIT


_FEW = 8  # up to this many ids, Python integers beat numpy's fixed cost per call (2-4 us against 10)
_GOLDEN_INT = 0x9E3779B97F4A7C15


def _few_units(key: int, salts: list[int], ids: list[int]) -> np.ndarray:
    """The uniforms of :meth:`Stream.uniform` for a few ids, in Python integers: the same wrapping
    arithmetic, so the same numbers (the unit tests compare the two paths)."""
    return np.array(
        [
            (_scalar_mix((((i + key) * _GOLDEN_INT) & _MASK) ^ salt) >> 11) * _TO_UNIT
            for i, salt in zip(ids, salts, strict=True)
        ]
    )


class Stream:
    """One named stream: per-pupil uniforms by counter, and a Generator for the rest."""

    def __init__(self, seed: int, name: str):
        self.name = name
        self._seq = np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(name.encode()),))
        self.key, self._base = (int(v) for v in self._seq.generate_state(2, dtype=np.uint64))
        self._key64 = np.uint64(self.key)
        self._salts: dict[int, np.uint64] = {}

    def uniform(self, ids: np.ndarray, counter: int | np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1): one per id, a pure function of (stream, id, counter)."""
        if type(ids) is np.ndarray and ids.ndim == 1 and 0 < len(ids) <= _FEW:
            if isinstance(counter, int | np.integer):
                return _few_units(self.key, [int(self._salt(counter))] * len(ids), ids.tolist())
            if type(counter) is np.ndarray and counter.shape == ids.shape:
                return _few_units(self.key, [int(self._salt(c)) for c in counter.tolist()], ids.tolist())
        x = self._keyed(ids)
        if len(x) == 0:
            return np.zeros(0)
        if isinstance(counter, int | np.integer):
            x ^= self._salt(counter)
        else:
            c = np.asarray(counter).astype(np.uint64) * np.uint64(0x632BE59BD9B4E019)
            c += np.uint64(self._base)
            x ^= _mix(c)
        return _to_unit(_mix(x))

    def uniforms(self, ids: np.ndarray, counters: tuple[int, ...]) -> np.ndarray:
        """``uniform(ids, c)`` for each counter ``c``, as the rows of one array, in one pass of the mixer.

        An id's numbers do not depend on which other ids are asked for, so a caller may draw once
        for a group and read the rows for the subgroups that need a second or third number."""
        if type(ids) is np.ndarray and ids.ndim == 1 and 0 < len(ids) <= _FEW:
            ids_list = ids.tolist()
            return np.array([_few_units(self.key, [int(self._salt(c))] * len(ids_list), ids_list) for c in counters])
        x = self._keyed(ids)
        if len(x) == 0:
            return np.zeros((len(counters), 0))
        salt = np.array([self._salt(c) for c in counters], dtype=np.uint64)
        return _to_unit(_mix(x[None, :] ^ salt[:, None]))

    def _keyed(self, ids: np.ndarray) -> np.ndarray:
        """(id + key) * golden ratio as a new 1-d uint64 array: the per-id half of the hash.

        The weekly step makes thousands of draws for a few ids each, where numpy's per-call cost
        is what counts: hence no temporaries here beyond the one array."""
        x = np.asarray(ids).astype(np.uint64)
        if x.ndim == 0:
            x = x.reshape(1)
        x += self._key64
        x *= _GOLDEN
        return x

    def _salt(self, counter: int) -> np.uint64:
        """The per-counter half of the hash (cached: the same few counters recur within a week)."""
        salt = self._salts.get(counter)
        if salt is None:
            salt = np.uint64(_scalar_mix(self._base + int(counter) * 0x632BE59BD9B4E019))
            if len(self._salts) > 4096:
                self._salts.clear()
            self._salts[counter] = salt
        return salt

    def exponential(self, ids: np.ndarray, counter: int | np.ndarray) -> np.ndarray:
        return -np.log1p(-self.uniform(ids, counter))

    def generator(self, counter: int = 0) -> np.random.Generator:
        """A numpy Generator for draws that are not per pupil (schools, new cohorts)."""
        seq = np.random.SeedSequence(entropy=self._seq.entropy, spawn_key=(*self._seq.spawn_key, counter))
        return np.random.default_rng(seq)


def multi_keys(streams: list[Stream], counter: int) -> tuple[np.ndarray, np.ndarray]:
    """The per-stream halves of the hash for :func:`exponential_keyed` (a caller drawing with the
    same streams and counter every week keeps them, rather than re-mixing them each time)."""
    keys = np.array([st.key for st in streams], dtype=np.uint64)
    salts = np.array([_scalar_mix(st._base + int(counter) * 0x632BE59BD9B4E019) for st in streams], dtype=np.uint64)
    return keys, salts


def exponential_keyed(keys: np.ndarray, salts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``streams[i].exponential(ids, counter)`` for every stream at once, as rows of one array,
    given ``multi_keys(streams, counter)``: the same numbers as the one-stream calls, with one pass
    of the mixer instead of one per stream."""
    ids = np.atleast_1d(np.asarray(ids)).astype(np.uint64)
    x = ids[None, :] + keys[:, None]
    x *= _GOLDEN
    x ^= salts[:, None]
    x = _mix(x)
    return -np.log1p(-_to_unit(x))


class Streams:
    """The replicate's streams, created on first use and cached by name."""

    def __init__(self, seed: int):
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._streams: dict[str, Stream] = {}

    def __getitem__(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(self.seed, name)
        return stream
