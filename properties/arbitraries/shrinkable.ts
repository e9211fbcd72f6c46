/**
 * A list arbitrary that shrinks the way a live, expensive property needs.
 *
 * fast-check's own array shrinker cannot drop the tail of an array generated
 * with minLength 1 while keeping its head, and it tries to shrink the first
 * items in place before it tries to drop them: with a culprit in the last of
 * three vehicles it spends most of its steps shrinking the innocent first
 * vehicle. Every accepted step is a full repeated execution against the real
 * stack, so the order matters.
 *
 * This shrinker (delta debugging, "ddmin"-like) first removes chunks — halves,
 * then quarters, … then single items, anywhere in the list — and only then
 * shrinks items in place, first to last. A single culprit among n items is
 * isolated in about log2(n) accepted steps, and everything afterwards runs
 * on the smallest list.
 */
import fc from 'fast-check';

class ChunkShrinkingList<T> extends fc.Arbitrary<T[]> {
  constructor(
    private readonly item: fc.Arbitrary<T>,
    private readonly minLength: number,
    private readonly maxLength: number,
  ) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T[]> {
    // With bias (fast-check asks for it now and then), prefer short lists.
    const biased = biasFactor !== undefined && mrng.nextInt(1, biasFactor) === 1;
    const max = biased ? Math.min(this.maxLength, this.minLength + 2) : this.maxLength;
    const n = mrng.nextInt(this.minLength, max);
    const items: fc.Value<T>[] = [];
    for (let i = 0; i < n; i++) items.push(this.item.generate(mrng, biasFactor));
    return this.wrap(items);
  }

  canShrinkWithoutContext(_value: unknown): _value is T[] {
    return false;
  }

  shrink(_value: T[], context: unknown): fc.Stream<fc.Value<T[]>> {
    if (!Array.isArray(context)) return fc.Stream.nil();
    return new fc.Stream(this.candidates(context as fc.Value<T>[]));
  }

  private wrap(items: fc.Value<T>[]): fc.Value<T[]> {
    return new fc.Value(items.map((v) => v.value), items);
  }

  private *candidates(items: fc.Value<T>[]): IterableIterator<fc.Value<T[]>> {
    const n = items.length;
    // 1. Drop chunks, largest first, at every position.
    for (let size = Math.max(1, Math.floor(n / 2)); size >= 1; size = size === 1 ? 0 : Math.max(1, Math.floor(size / 2))) {
      if (n - size < this.minLength) continue;
      for (let start = 0; start + size <= n; start += size) {
        yield this.wrap([...items.slice(0, start), ...items.slice(start + size)]);
      }
    }
    // 2. Shrink items in place, first to last.
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      for (const smaller of this.item.shrink(it.value_, it.context)) {
        yield this.wrap([...items.slice(0, i), smaller, ...items.slice(i + 1)]);
      }
    }
  }
}

/** 1..maxLength items; shrinks by dropping chunks anywhere first, then items in place. */
export function nonEmptyArray<T>(arb: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return new ChunkShrinkingList(arb, 1, Math.max(1, maxLength));
}

/** 0..maxLength items, same shrinking. */
export function shrinkableArray<T>(arb: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return new ChunkShrinkingList(arb, 0, Math.max(0, maxLength));
}
