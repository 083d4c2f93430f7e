/**
 * The project's one seeded random source and one seeded split. Shipped task files (their train/test split) and
 * circuits (pruning's mask initialisation, validation split and bisection subset) were made with exactly this
 * generator and this shuffle, so both must stay bit-identical: a change silently moves pairs between train and test.
 *
 * It lives in tasks/ because splitting task pairs is what needs it; tasks/ is a leaf (imports no other room), so
 * circuit/, the model's test fixtures and the scripts can all import it without bending the room order.
 */

/** mulberry32: a small 32-bit PRNG, floats in [0, 1), the same sequence on every platform (integer maths only). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place, drawing from `random` (high index first, the order every seeded split relies on). */
export function shuffleInPlace<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** mulberry32 with the few draws its users need. */
export class SeededRng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(): number {
    return this.next();
  }
  /** Standard normal (Box-Muller; a zero first draw is redrawn so the log stays finite). */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  shuffle<T>(xs: T[]): T[] {
    return shuffleInPlace(xs, this.next);
  }
}

/**
 * Holds out `count` items picked by a shuffle seeded with `seed`; both parts keep the input order, so the split
 * depends only on the number of items and the seed, never on their content.
 */
export function seededHoldout<T>(items: readonly T[], count: number, seed: number): { kept: T[]; held: T[] } {
  const order = new SeededRng(seed).shuffle(items.map((_, i) => i));
  const held = new Set(order.slice(0, count));
  return { kept: items.filter((_, i) => !held.has(i)), held: items.filter((_, i) => held.has(i)) };
}
