#!/usr/bin/env python3
"""Draw the bbcs application icon: a red seal-like square with a white 办.

The generated files are committed under resources/icons/ (this is our own drawing, so the
licence is the project's); run this again only to change the design:

    python installer/make_icons.py

Writes bbcs.png (256 px, the window icon), bbcs-<N>.png for the Linux hicolor theme and
bbcs.ico (16–256 px) for the Windows executable, its shortcuts and the installer. Needs Pillow
(a dependency of reportlab) and the bundled CJK font for the character.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"
FONT = ROOT / "resources" / "fonts" / "DroidSansFallbackFull.ttf"
SEAL_RED = (192, 16, 32, 255)  # 印泥红, close to the official-paper red of the UI
WHITE = (255, 255, 255, 255)
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
MASTER = 1024
SMALL = 24  # at this size and below: no frame


def draw_master(size: int = MASTER, *, frame: bool = True) -> Image.Image:
    """The icon at ``size`` px; smaller sizes are downscaled from it.

    Without ``frame`` (for 16–24 px, where a thin frame turns to mush) the character is larger.
    """
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = round(size * 0.04)
    radius = round(size * 0.14)
    draw.rounded_rectangle(
        (margin, margin, size - margin, size - margin), radius=radius, fill=SEAL_RED
    )
    if not frame:
        font = ImageFont.truetype(str(FONT), round(size * 0.80))
        draw.text((size / 2, size / 2), "办", font=font, fill=WHITE, anchor="mm")
        return image
    # The thin inner frame of a seal.
    inset = round(size * 0.11)
    draw.rounded_rectangle(
        (inset, inset, size - inset, size - inset),
        radius=round(radius * 0.55),
        outline=WHITE,
        width=max(1, round(size * 0.035)),
    )
    font = ImageFont.truetype(str(FONT), round(size * 0.62))
    draw.text((size / 2, size / 2), "办", font=font, fill=WHITE, anchor="mm")
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    master = draw_master()
    small = draw_master(frame=False)
    for size in HICOLOR_SIZES:
        (small if size <= SMALL else master).resize((size, size), Image.Resampling.LANCZOS).save(
            OUT / f"bbcs-{size}.png", optimize=True
        )
    master.resize((256, 256), Image.Resampling.LANCZOS).save(OUT / "bbcs.png", optimize=True)
    # Pillow writes each ICO size by downscaling one image: the frameless sizes go in by hand.
    icons = [
        (small if s <= SMALL else master).resize((s, s), Image.Resampling.LANCZOS)
        for s in ICO_SIZES
    ]
    icons[-1].save(OUT / "bbcs.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=icons)
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
