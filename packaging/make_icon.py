"""Draw the program icon: a round collimated DSA field (light grey, as subtracted angiograms
look) with a dark arterial tree and a tumour stain outlined in the viewer's tumour cyan.
Writes resources/icons/dsaviewer.png (256 px) and dsaviewer.ico (16-256 px); the results are
committed, so the build does not need to run this.

    python packaging/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
CANVAS = 1024  # drawn large, then downsampled for smooth edges
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
TUMOR_CYAN = (0, 255, 255)  # dsaviewer.core.overlay_images.TUMOR_RGB

# The arterial tree as polylines in 0..1 canvas units, thickest first: the catheter in the
# hepatic artery entering from below left, then its branches.
VESSELS = [
    (0.060, [(0.22, 0.86), (0.36, 0.70), (0.46, 0.58)]),
    (0.042, [(0.46, 0.58), (0.60, 0.44), (0.70, 0.30)]),
    (0.036, [(0.46, 0.58), (0.40, 0.40), (0.34, 0.26)]),
    (0.030, [(0.60, 0.44), (0.76, 0.50), (0.82, 0.60)]),
    (0.024, [(0.40, 0.40), (0.26, 0.36)]),
    (0.022, [(0.70, 0.30), (0.80, 0.24)]),
    (0.020, [(0.36, 0.70), (0.28, 0.60)]),
]
TUMOR = (0.63, 0.60, 0.115)  # centre x, centre y, radius


def draw_icon(size: int = CANVAS) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=(18, 24, 38, 255))
    margin = size * 0.08
    draw.ellipse((margin, margin, size - margin, size - margin), fill=(200, 200, 196, 255))

    stain = Image.new("L", (size, size), 0)
    cx, cy, r = (value * size for value in TUMOR)
    ImageDraw.Draw(stain).ellipse((cx - r, cy - r, cx + r, cy + r), fill=150)
    stain = stain.filter(ImageFilter.GaussianBlur(size * 0.03))
    image.paste((40, 40, 40, 255), mask=stain)

    for width, points in VESSELS:
        line = [(x * size, y * size) for x, y in points]
        draw.line(line, fill=(25, 25, 25, 255), width=round(width * size), joint="curve")
        for x, y in line:  # round caps
            half = width * size / 2
            draw.ellipse((x - half, y - half, x + half, y + half), fill=(25, 25, 25, 255))

    ring = r * 1.25
    draw.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), outline=(*TUMOR_CYAN, 255),
                 width=round(size * 0.035))
    return image


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    large = draw_icon()
    large.resize((256, 256), Image.Resampling.LANCZOS).save(ICONS / "dsaviewer.png")
    large.save(ICONS / "dsaviewer.ico", sizes=ICO_SIZES)
    print(f"wrote {ICONS / 'dsaviewer.png'} and {ICONS / 'dsaviewer.ico'}")


if __name__ == "__main__":
    main()
