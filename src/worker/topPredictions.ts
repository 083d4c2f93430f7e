/** The k most likely next tokens from one row of logits, with softmax probabilities over the whole vocabulary. */
export function topPredictions(logits: ArrayLike<number>, k: number): { id: number; prob: number; logit: number }[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - max);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, k).map((id) => ({ id, logit: logits[id], prob: Math.exp(logits[id] - max) / z }));
}
