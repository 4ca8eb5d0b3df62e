//! Thumbnails of images: decoded within limits (a small file claiming a huge picture is
//! refused before it is allocated), turned as their EXIF orientation says, scaled to fit
//! [`SIDE`] and encoded again by us, so nothing of the original's metadata (EXIF, GPS,
//! comments, trailing bytes) survives in what is shown inline.

use std::{fs::File, io::BufReader, path::Path};

use image::{
    DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, png::PngEncoder},
};

/// The longest side of a thumbnail, in pixels.
pub const SIDE: u32 = 320;
/// The largest picture decoded, per side.
const DIMENSION_MAX: u32 = 16_384;
/// Memory one decode may take.
const ALLOC_MAX: u64 = 256 * 1024 * 1024;

pub struct Thumbnail {
    /// The original's size, as shown (after its orientation).
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The thumbnail of the image at `path`, of the sniffed `content_type`; `None` when it
/// cannot be decoded within the limits. CPU-bound: call it off the async workers.
pub fn make(path: &Path, content_type: &str) -> Option<Thumbnail> {
    let format = match content_type {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        _ => return None,
    };
    let mut reader = ImageReader::with_format(BufReader::new(File::open(path).ok()?), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(DIMENSION_MAX);
    limits.max_image_height = Some(DIMENSION_MAX);
    limits.max_alloc = Some(ALLOC_MAX);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).ok()?;
    if let Some(orientation) = orientation {
        picture.apply_orientation(orientation);
    }
    let (width, height) = (picture.width(), picture.height());
    let small = if width > SIDE || height > SIDE {
        picture.thumbnail(SIDE, SIDE)
    } else {
        picture
    };
    let mut bytes = Vec::new();
    let content_type = if small.color().has_alpha() {
        small.write_with_encoder(PngEncoder::new(&mut bytes)).ok()?;
        "image/png"
    } else {
        let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 82))
            .ok()?;
        "image/jpeg"
    };
    Some(Thumbnail {
        width,
        height,
        bytes,
        content_type,
    })
}
