// A bounded cache that forgets what has not been used lately, cheap on the hit path: entries
// live in two generations, a hit in the older one moves the entry to the newer one, and when
// the newer one is full the older one is dropped whole. So at most `max` entries are kept, and a
// hit is one Map lookup (a Map-based exact LRU pays a delete and an insert on every hit, which
// measured as the largest cost of filtering a 5,000-tool list).
export class Lru<K, V> {
  readonly #half: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 2)
      throw new RangeError(`cache size must be an integer ≥ 2, got ${max}`);
    this.#half = Math.floor(max / 2);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const value = this.#young.get(key);
    if (value !== undefined) return value;
    const older = this.#old.get(key);
    if (older !== undefined) {
      this.#old.delete(key);
      this.set(key, older);
    }
    return older;
  }

  set(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}
