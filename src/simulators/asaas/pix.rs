//! A PIX "copia e cola" payload in the BR Code (EMV) layout: well formed (field lengths
//! and CRC16 are right) but pointing nowhere. Its picture is a `qr_image` look-alike.

use super::model::SimPayment;

/// One EMV field: id, two-digit length, value.
fn field(id: &str, value: &str) -> String {
    format!("{id}{:02}{value}", value.len())
}

/// The BR Code of `payment` (`000201…`, ending in field 63 with its CRC16): the same on every call, as Asaas gives one per charge.
pub(super) fn payload(payment: &SimPayment) -> String {
    let account =
        field("00", "br.gov.bcb.pix") + &field("25", &format!("qr.asaas.sim/cobv/{}", payment.id));
    let mut text = field("00", "01")
        + &field("01", "12")
        + &field("26", &account)
        + &field("52", "0000")
        + &field("53", "986")
        + &field("54", &format!("{:.2}", payment.value))
        + &field("58", "BR")
        + &field("59", "ASAAS SIMULADOR")
        + &field("60", "SAO PAULO")
        + &field("62", &field("05", "***"))
        + "6304";
    let crc = crc16_ccitt(text.as_bytes());
    text.push_str(&format!("{crc:04X}"));
    text
}

/// CRC-16/CCITT-FALSE, the BR Code checksum.
fn crc16_ccitt(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in bytes {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_matches_its_published_check_value() {
        assert_eq!(crc16_ccitt(b"123456789"), 0x29B1);
    }
}
