/** How the cache's images are named, encoded and described in the result event (tasks/shared/images.ts). */
import sharp from 'sharp';
import { imageRef, render, renditionKey, scaledHeight, toPng, unionRenditions } from '../../../tasks/shared/images';

const picture = (format: 'png' | 'jpeg', width = 400, height = 200, compressionLevel = 1) => {
  // Noise, so that quality and palette settings change the bytes.
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return (format === 'png' ? image.png({ compressionLevel }) : image.jpeg()).toBuffer();
};

describe('image naming', () => {
  it('names a rendition by width, quality when asked, and format', () => {
    expect(renditionKey('k', { width: 512, format: 'webp' })).toBe('images/k/512w.webp');
    expect(renditionKey('k', { width: 256, format: 'jpeg', quality: 70 })).toBe('images/k/256w-q70.jpeg');
  });

  it('describes each format with its IANA content type', () => {
    const types = (['png', 'jpeg', 'webp', 'avif'] as const).map((f) => imageRef('b', `k.${f}`, f, 1, 1, 1).contentType);
    expect(types).toEqual(['image/png', 'image/jpeg', 'image/webp', 'image/avif']);
    expect(imageRef('imagegen-images', 'images/k/1w.avif', 'avif', 64, 32, 900)).toEqual({
      bucket: 'imagegen-images',
      key: 'images/k/1w.avif',
      uri: 's3://imagegen-images/images/k/1w.avif',
      width: 64,
      height: 32,
      format: 'avif',
      contentType: 'image/avif',
      bytes: 900,
    });
  });

  it('renders each distinct rendition once, in the order first asked', () => {
    const a = { width: 512, format: 'webp' } as const;
    const b = { width: 128, format: 'png' } as const;
    const c = { width: 128, format: 'png', quality: 50 } as const;
    expect(unionRenditions('k', [[a], [b, { ...a }], [c, b]])).toEqual([a, b, c]);
    expect(unionRenditions('k', [])).toEqual([]);
  });

  it('derives the height of a width-only resize from the aspect ratio, never below 1 px', () => {
    expect(scaledHeight(1024, 512, 256)).toBe(128);
    expect(scaledHeight(1000, 333, 500)).toBe(167);
    expect(scaledHeight(4096, 1, 16)).toBe(1);
  });
});

describe('render', () => {
  it('resizes to the width keeping the aspect ratio, in the format asked', async () => {
    const out = await render(await picture('png'), { width: 100, format: 'avif' });
    expect(out).toMatchObject({ width: 100, height: 50 });
    const meta = await sharp(out.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['heif', 100, 50]);
  });

  it.each(['jpeg', 'webp', 'avif'] as const)('encodes %s at the quality asked (default otherwise)', async (format) => {
    const original = await picture('png');
    const low = await render(original, { width: 200, format, quality: 5 });
    const standard = await render(original, { width: 200, format });
    expect(low.body.length).toBeLessThan(standard.body.length);
  });

  it('keeps a PNG rendition lossless without a quality, and quantises it to a palette with one', async () => {
    const original = await picture('png');
    const lossless = await sharp((await render(original, { width: 200, format: 'png' })).body).metadata();
    const quantised = await sharp((await render(original, { width: 200, format: 'png', quality: 40 })).body).metadata();
    expect(lossless.isPalette).toBe(false);
    expect(quantised.isPalette).toBe(true);
  });
});

describe('toPng', () => {
  it("keeps the model's PNG byte for byte", async () => {
    const png = await picture('png');
    const out = await toPng(png);
    expect(out.body.equals(png)).toBe(true);
    expect(out).toMatchObject({ width: 400, height: 200 });
  });

  it('re-encodes any other format as PNG', async () => {
    const out = await toPng(await picture('jpeg'));
    const meta = await sharp(out.body).metadata();
    expect([meta.format, out.width, out.height]).toEqual(['png', 400, 200]);
  });

  it('refuses a truncated PNG whose header still reads', async () => {
    const png = await picture('png');
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    expect((await sharp(truncated).metadata()).format).toBe('png');
    await expect(toPng(truncated)).rejects.toThrow();
  });
});
