//! A small PNG that looks like a QR code (finder squares, modules drawn from a hash of the
//! text), for simulators that show one: a look-alike, not a scannable code.

const MODULES: usize = 25;
const QUIET: usize = 4;
const SCALE: usize = 4;

/// Whether module (x, y) is dark: three finder squares, and elsewhere bits drawn from a
/// hash of the payload so each charge gets its own picture.
fn dark(payload: &str, x: usize, y: usize) -> bool {
    // Concentric squares around each finder's centre: dark, light, dark, light separator.
    for (cx, cy) in [(3, 3), (MODULES - 4, 3), (3, MODULES - 4)] {
        let ring = x.abs_diff(cx).max(y.abs_diff(cy));
        if ring <= 4 {
            return ring != 2 && ring != 4;
        }
    }
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a over the payload
    for byte in payload.bytes() {
        seed = (seed ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    // A splitmix64 step per module, so neighbouring modules are unrelated.
    let mut z = seed.wrapping_add(((y * MODULES + x) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) & 1 == 1
}

/// A 1-bit greyscale PNG of the look-alike QR code.
pub(crate) fn qr_png(payload: &str) -> Vec<u8> {
    let side = (MODULES + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity(side * (row_bytes + 1));
    for py in 0..side {
        raw.push(0); // filter: none
        let mut row = vec![0xFFu8; row_bytes]; // 1 = white
        for px in 0..side {
            let (mx, my) = (px / SCALE, py / SCALE);
            let inside =
                (QUIET..QUIET + MODULES).contains(&mx) && (QUIET..QUIET + MODULES).contains(&my);
            if inside && dark(payload, mx - QUIET, my - QUIET) {
                row[px / 8] &= !(0x80 >> (px % 8));
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(side as u32).to_be_bytes());
    header.extend_from_slice(&(side as u32).to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]); // depth 1, greyscale, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed ("stored") deflate blocks: valid, and no codec needed.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(0xFFFF).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_is_a_png_with_its_size_in_the_header() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let png = qr_png("000201");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 132);
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND's CRC");
        assert_ne!(qr_png("a"), qr_png("b"), "each text its own picture");
    }
}
