/**
 * SVG and PNG export of the graph as drawn (current zoom reset to the whole graph). Colours are attributes, so the
 * serialised SVG is self-contained. `decorate` adds what the page draws outside the SVG (the canvas's edges) to the copy.
 */
export type Decorate = (clone: SVGSVGElement) => void;

function standalone(svg: SVGSVGElement, background: string, decorate?: Decorate): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  decorate?.(clone);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const [, , w, h] = (svg.getAttribute('viewBox') ?? '0 0 800 600').split(' ').map(Number);
  clone.setAttribute('width', String(w));
  clone.setAttribute('height', String(h));
  clone.querySelector('.zoom-layer')?.removeAttribute('transform');
  clone.classList.remove('hovering');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', background);
  clone.insertBefore(bg, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function exportSvg(svg: SVGSVGElement, background: string, name: string, decorate?: Decorate): void {
  download(new Blob([standalone(svg, background, decorate)], { type: 'image/svg+xml' }), name);
}

export async function exportPng(svg: SVGSVGElement, background: string, name: string, decorate?: Decorate, scale = 2): Promise<void> {
  const text = standalone(svg, background, decorate);
  const [, , w, h] = (svg.getAttribute('viewBox') ?? '0 0 800 600').split(' ').map(Number);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the SVG could not be rasterised'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(w! * scale);
    canvas.height = Math.ceil(h! * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('the PNG could not be encoded');
    download(blob, name);
  } finally {
    URL.revokeObjectURL(url);
  }
}
