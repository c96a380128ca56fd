// A table of in-flight things keyed by JSON-RPC id (number or string), with the Map methods the
// gateway uses. Why not a Map: a Map that lives for the whole process and sees one entry added and
// removed per forwarded call was measured to keep per-call objects alive through young-generation
// collections; replacing the per-call Maps with plain null-prototype objects halved GC pause time
// and cut CPU per call by about a tenth (docs/design/per-call-tables.md).
export class IdTable<V> {
  #numbers: Record<number, V> = Object.create(null);
  #strings: Record<string, V> = Object.create(null);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  // 1 and "1" are different JSON-RPC ids, so numbers and strings live apart.
  #of(id: number | string): Record<number | string, V> {
    return typeof id === 'number' ? this.#numbers : this.#strings;
  }

  get(id: number | string): V | undefined {
    return this.#of(id)[id];
  }

  has(id: number | string): boolean {
    return id in this.#of(id);
  }

  set(id: number | string, value: V): void {
    const table = this.#of(id);
    if (!(id in table)) this.#size++;
    table[id] = value;
  }

  delete(id: number | string): boolean {
    const table = this.#of(id);
    if (!(id in table)) return false;
    delete table[id];
    this.#size--;
    return true;
  }

  values(): V[] {
    return [...Object.values(this.#numbers), ...Object.values(this.#strings)];
  }

  clear(): void {
    this.#numbers = Object.create(null);
    this.#strings = Object.create(null);
    this.#size = 0;
  }
}
