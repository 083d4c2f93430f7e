import { expect, test } from './fixtures/test';

// The TF.js forward pass on the browser-only backends must match the float64 reference to 1e-4 for every
// architecture option (logits, every hook site, attention patterns). In this headless Chromium WebGPU runs
// on SwiftShader: real WGSL kernels, executed on the CPU.
for (const backend of ['webgl', 'webgpu'] as const) {
  test(`forward on ${backend} matches the float64 reference for every option`, async ({ page }) => {
    await page.goto('/harness.html');
    await expect(page.locator('#out')).toHaveText('ready');
    const result = await page.evaluate(
      (b) => (window as unknown as { runtimeChecks: { goldenSuite: (b: string) => Promise<{ backend: string; adapter: string; cases: Record<string, Record<string, number>> }> } }).runtimeChecks.goldenSuite(b),
      backend,
    );
    expect(result.backend).toBe(backend);
    test.info().annotations.push({ type: 'adapter', description: result.adapter });
    const failures: string[] = [];
    for (const [label, diffs] of Object.entries(result.cases)) {
      for (const [what, d] of Object.entries(diffs)) if (!(d <= 1e-4)) failures.push(`${label} / ${what}: ${d}`);
    }
    expect(Object.keys(result.cases).length).toBeGreaterThanOrEqual(15);
    expect(failures).toEqual([]);
  });
}
