//! What a file is, told from its bytes (never from the client's `Content-Type` or the
//! name's extension alone), checked against the allow-list of ADR 25; and the file name
//! made safe to show.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::Path,
};

/// Bytes of a file's start that [`sniff`] looks at.
pub const HEAD: usize = 8 * 1024;

/// `image` (shown inline with a thumbnail) or `file` (downloaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    File,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
        }
    }
}

/// An accepted type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: Kind,
}

const fn image(content_type: &'static str) -> Sniffed {
    Sniffed {
        content_type,
        kind: Kind::Image,
    }
}

const fn file(content_type: &'static str) -> Sniffed {
    Sniffed {
        content_type,
        kind: Kind::File,
    }
}

/// Why a file is refused, for the client.
pub type Refusal = &'static str;

const NOT_ALLOWED: Refusal = "This type of file is not accepted: images (PNG, JPEG, GIF, WebP), PDF, \
     Word, Excel, PowerPoint and OpenDocument files, plain text and CSV, audio (Ogg, MP3, M4A, WAV, \
     WebM) and video (MP4, MOV, WebM).";

/// What the file is. `head` is its first [`HEAD`] bytes (or all of it), `utf8` whether the
/// whole file is UTF-8 text without NUL or other control characters but tab, line breaks
/// and form feed, `name` the name the client gave (only to tell CSV from plain text), and
/// `path` the staged file (read again for the directory at the end of a ZIP).
pub fn sniff(head: &[u8], utf8: bool, name: &str, path: &Path) -> Result<Sniffed, Refusal> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(image("image/png"));
    }
    if starts(b"\xff\xd8\xff") {
        return Ok(image("image/jpeg"));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(image("image/gif"));
    }
    if starts(b"RIFF") && at(8, b"WEBP") {
        return Ok(image("image/webp"));
    }
    if starts(b"RIFF") && at(8, b"WAVE") {
        return Ok(file("audio/wav"));
    }
    if starts(b"%PDF-") {
        return Ok(file("application/pdf"));
    }
    if starts(b"OggS") {
        return Ok(file("audio/ogg"));
    }
    if starts(b"ID3") || mpeg_audio_frame(head) {
        return Ok(file("audio/mpeg"));
    }
    if starts(b"\x1a\x45\xdf\xa3") {
        return Ok(file("video/webm"));
    }
    if at(4, b"ftyp") {
        return match head.get(8..12) {
            Some(b"M4A " | b"M4B ") => Ok(file("audio/mp4")),
            Some(b"qt  ") => Ok(file("video/quicktime")),
            Some(
                b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
                | b"dash" | b"MSNV" | b"3gp4" | b"3gp5",
            ) => Ok(file("video/mp4")),
            _ => Err(NOT_ALLOWED),
        };
    }
    if starts(b"PK\x03\x04") {
        return zipped(head, path);
    }
    if utf8 {
        return text(head, name);
    }
    Err(NOT_ALLOWED)
}

/// An MPEG layer III frame header: the 11 sync bits, a version that is not reserved, layer
/// III, a bitrate and a sample rate that are not "bad".
fn mpeg_audio_frame(head: &[u8]) -> bool {
    let [a, b, c, ..] = *head else {
        return false;
    };
    a == 0xff
        && b & 0xe0 == 0xe0
        && (b >> 3) & 3 != 1
        && (b >> 1) & 3 == 1
        && c >> 4 != 0xf
        && (c >> 2) & 3 != 3
}

/// Plain text or CSV (by the name's extension): never markup a browser would run.
fn text(head: &[u8], name: &str) -> Result<Sniffed, Refusal> {
    let start = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = start.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'<') {
        return Err("HTML, XML and SVG files are not accepted.");
    }
    if start.starts_with(b"#!") {
        return Err("Scripts are not accepted.");
    }
    if name.to_ascii_lowercase().ends_with(".csv") {
        Ok(file("text/csv"))
    } else {
        Ok(file("text/plain"))
    }
}

/// A ZIP is accepted only as an Office Open XML or OpenDocument file without macros; any
/// other archive (a JAR, an APK, a plain ZIP that could carry anything) is refused.
fn zipped(head: &[u8], path: &Path) -> Result<Sniffed, Refusal> {
    const ARCHIVE: Refusal = "Archives are not accepted, only Office and OpenDocument files.";
    // OpenDocument: its first entry is `mimetype`, stored, holding the type.
    if head.get(30..38) == Some(b"mimetype") && head.get(8..10) == Some(&[0, 0]) {
        let n = u16::from_le_bytes([head[26], head[27]]) as usize;
        let extra = u16::from_le_bytes([head[28], head[29]]) as usize;
        let size = u32::from_le_bytes([head[18], head[19], head[20], head[21]]) as usize;
        let start = 30 + n + extra;
        let names = entries(path).ok_or(ARCHIVE)?;
        if names
            .iter()
            .any(|n| n.to_ascii_lowercase().starts_with("basic/"))
        {
            return Err("Documents with macros are not accepted.");
        }
        return match head.get(start..start + size) {
            Some(b"application/vnd.oasis.opendocument.text") => {
                Ok(file("application/vnd.oasis.opendocument.text"))
            }
            Some(b"application/vnd.oasis.opendocument.spreadsheet") => {
                Ok(file("application/vnd.oasis.opendocument.spreadsheet"))
            }
            Some(b"application/vnd.oasis.opendocument.presentation") => {
                Ok(file("application/vnd.oasis.opendocument.presentation"))
            }
            _ => Err(ARCHIVE),
        };
    }
    let names = entries(path).ok_or(ARCHIVE)?;
    if !names.iter().any(|n| n == "[Content_Types].xml") {
        return Err(ARCHIVE);
    }
    if names
        .iter()
        .any(|n| n.to_ascii_lowercase().ends_with("vbaproject.bin"))
    {
        return Err("Documents with macros are not accepted.");
    }
    let under = |dir: &str| names.iter().any(|n| n.starts_with(dir));
    if under("word/") {
        Ok(file(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ))
    } else if under("xl/") {
        Ok(file(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))
    } else if under("ppt/") {
        Ok(file(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ))
    } else {
        Err(ARCHIVE)
    }
}

/// Entries a ZIP's central directory may list before the file is refused.
const ENTRIES_MAX: usize = 20_000;

/// The names in a ZIP's central directory; `None` when it cannot be read (ZIP64 included).
fn entries(path: &Path) -> Option<Vec<String>> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    // The end record is 22 bytes plus a comment of up to 65,535.
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0; tail_len as usize];
    file.read_exact(&mut tail).ok()?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))?;
    let record = &tail[end..];
    let count = u16::from_le_bytes([record[10], record[11]]) as usize;
    let size = u32::from_le_bytes([record[12], record[13], record[14], record[15]]) as u64;
    let offset = u32::from_le_bytes([record[16], record[17], record[18], record[19]]) as u64;
    if count > ENTRIES_MAX || offset.checked_add(size)? > len {
        return None;
    }
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut dir = vec![0; size as usize];
    file.read_exact(&mut dir).ok()?;
    let mut names = Vec::with_capacity(count);
    let mut at = 0;
    for _ in 0..count {
        let entry = dir.get(at..at + 46)?;
        if !entry.starts_with(b"PK\x01\x02") {
            return None;
        }
        let field = |i: usize| u16::from_le_bytes([entry[i], entry[i + 1]]) as usize;
        let (n, extra, comment) = (field(28), field(30), field(32));
        let name = dir.get(at + 46..at + 46 + n)?;
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + n + extra + comment;
    }
    Some(names)
}

/// Checks text as it streams: UTF-8 across chunk boundaries, and no control characters
/// but tab, line feed, carriage return and form feed.
#[derive(Default)]
pub struct TextCheck {
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let (valid, rest) = match std::str::from_utf8(&bytes) {
            Ok(all) => (all, &[][..]),
            Err(e) if e.error_len().is_none() => {
                let (ok, rest) = bytes.split_at(e.valid_up_to());
                (std::str::from_utf8(ok).unwrap_or_default(), rest)
            }
            Err(_) => {
                self.failed = true;
                return;
            }
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
        {
            self.failed = true;
            return;
        }
        self.carry = rest.to_vec();
    }

    /// The whole stream was such text.
    pub fn passed(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

/// The extensions a file of `content_type` may be named with; the first is its own.
fn extensions(content_type: &str) -> &'static [&'static str] {
    match content_type {
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg", "jfif"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "application/pdf" => &["pdf"],
        "audio/wav" => &["wav"],
        "audio/ogg" => &["ogg", "oga", "opus"],
        "audio/mpeg" => &["mp3"],
        "audio/mp4" => &["m4a", "m4b"],
        "video/mp4" => &["mp4", "m4v", "3gp"],
        "video/quicktime" => &["mov"],
        "video/webm" => &["webm", "weba", "mkv"],
        "text/plain" => &["txt", "log", "md", "text"],
        "text/csv" => &["csv"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => &["docx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => &["xlsx"],
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => &["pptx"],
        "application/vnd.oasis.opendocument.text" => &["odt"],
        "application/vnd.oasis.opendocument.spreadsheet" => &["ods"],
        "application/vnd.oasis.opendocument.presentation" => &["odp"],
        _ => &["bin"],
    }
}

/// `name` (already [`display_name`]) ending in an extension of the type its bytes are: one
/// that does not fit gets the type's own added (`invoice.exe` holding text is
/// `invoice.exe.txt`, `photo.pdf` holding a PNG is `photo.pdf.png`), so what is downloaded
/// opens as what it is and never as a program.
pub fn fitting_name(name: &str, content_type: &str) -> String {
    let allowed = extensions(content_type);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if ext.is_some_and(|e| allowed.contains(&e.as_str())) {
        return name.to_string();
    }
    let own = allowed[0];
    let keep = NAME_MAX - own.len() - 1;
    let stem: String = name.chars().take(keep).collect();
    format!("{stem}.{own}")
}

/// Longest file name shown, in characters.
pub const NAME_MAX: usize = 180;

/// The client's file name, made safe to show: the last path segment only, without control
/// or bidirectional-formatting characters (an RTL override can make `exe.pdf` read as
/// `fdp.exe`), trimmed, capped at [`NAME_MAX`] characters (the extension kept), and `file`
/// when nothing is left. It is only ever shown, never used to name a stored file.
pub fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_or_invisible(*c))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "file".to_string();
    }
    if cleaned.chars().count() <= NAME_MAX {
        return cleaned.to_string();
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 16 => (stem, ext),
        _ => (cleaned, ""),
    };
    let keep = NAME_MAX - ext.chars().count() - usize::from(!ext.is_empty());
    let stem: String = stem.chars().take(keep).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

/// Bidirectional controls, zero-width characters and other invisible formatting.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}' | '\u{180e}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(bytes: &[u8], name: &str) -> Result<Sniffed, Refusal> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staged");
        std::fs::write(&path, bytes).unwrap();
        let mut check = TextCheck::default();
        check.feed(bytes);
        sniff(&bytes[..bytes.len().min(HEAD)], check.passed(), name, &path)
    }

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        assert_eq!(
            of(b"\x89PNG\r\n\x1a\n\0\0", "report.pdf").unwrap(),
            image("image/png")
        );
        assert_eq!(
            of(b"%PDF-1.7\n", "photo.png").unwrap(),
            file("application/pdf")
        );
        assert_eq!(of(b"a,b\n1,2\n", "t.CSV").unwrap(), file("text/csv"));
        assert_eq!(of("olá\n".as_bytes(), "t.txt").unwrap(), file("text/plain"));
        assert_eq!(of(b"\0\0\0\x20ftypM4A \0", "x").unwrap(), file("audio/mp4"));
        assert_eq!(of(b"\xff\xfb\x90\x64\0", "x").unwrap(), file("audio/mpeg"));
        for refused in [
            &b"<!DOCTYPE html><script>alert(1)</script>"[..],
            b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            b"\xef\xbb\xbf<html>",
            b"<?xml version='1.0'?>",
            b"MZ\x90\0\x03\0\0\0",
            b"\x7fELF\x02\x01\x01",
            b"#!/bin/sh\nrm -rf /\n",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            b"text with a \x1b[31m control",
            b"\xff\xfe\0\0 not utf-8 \xc3",
        ] {
            assert!(of(refused, "fine.png").is_err(), "{refused:?}");
        }
    }

    #[test]
    fn text_is_checked_across_chunks() {
        let text = "ação ✓ 🎉\n".repeat(50);
        let mut check = TextCheck::default();
        for chunk in text.as_bytes().chunks(7) {
            check.feed(chunk);
        }
        assert!(check.passed());
        let mut cut = TextCheck::default();
        cut.feed(&text.as_bytes()[..text.len() - 2]);
        assert!(!cut.passed(), "ends inside a character");
    }

    #[test]
    fn names_are_shown_inert() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(display_name("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        assert_eq!(display_name("a\0b\r\nc.txt"), "abc.txt");
        assert_eq!(display_name(".."), "file");
        assert_eq!(display_name(".htaccess"), "htaccess");
        assert_eq!(display_name(""), "file");
        let long = format!("{}.pdf", "x".repeat(400));
        let shown = display_name(&long);
        assert_eq!(shown.chars().count(), NAME_MAX);
        assert!(shown.ends_with(".pdf"));
        assert_eq!(
            fitting_name("invoicefdp.exe", "text/plain"),
            "invoicefdp.exe.txt"
        );
        assert_eq!(fitting_name("photo.PDF", "image/png"), "photo.PDF.png");
        assert_eq!(fitting_name("photo.JPEG", "image/jpeg"), "photo.JPEG");
        assert_eq!(fitting_name("notes", "text/plain"), "notes.txt");
        let fitted = fitting_name(&display_name(&long), "image/png");
        assert_eq!(fitted.chars().count(), NAME_MAX);
        // Markup stays text (escaping is the renderer's job): the name is kept as typed.
        assert_eq!(
            display_name("<img src=x onerror=alert(1)>.png"),
            "<img src=x onerror=alert(1)>.png"
        );
    }
}
