//! One-shot compression and decompression for node:zlib (its sync, callback and stream forms
//! all end here), with zlib's error texts and codes where Node reports them.

use flate2::{Compress, Compression, Crc, Decompress, FlushCompress, FlushDecompress, Status};
use std::io::Read;

/// A zlib-style failure: Node puts `errno` and `code` on the Error.
#[derive(Debug, PartialEq, Eq)]
pub struct ZlibError {
    pub message: String,
    pub code: &'static str,
    pub errno: i32,
    /// What was decompressed before the input ran out (Node's `Z_SYNC_FLUSH` keeps it).
    pub partial: Vec<u8>,
}

fn data_error(message: &str) -> ZlibError {
    ZlibError {
        message: message.to_string(),
        code: "Z_DATA_ERROR",
        errno: -3,
        partial: Vec::new(),
    }
}

fn unexpected_end() -> ZlibError {
    ZlibError {
        message: "unexpected end of file".to_string(),
        code: "Z_BUF_ERROR",
        errno: -5,
        partial: Vec::new(),
    }
}

/// `unexpected_end`, keeping the output so far.
fn truncated(partial: Vec<u8>) -> ZlibError {
    ZlibError {
        partial,
        ..unexpected_end()
    }
}

/// Runs `mode` (`gzip`, `gunzip`, `deflate`, `inflate`, `deflateRaw`, `inflateRaw`,
/// `unzip`, `brotliDecompress`) over `data`; `level` is zlib's 0–9 (default 6).
pub fn run(mode: &str, data: &[u8], level: Option<i32>) -> Result<Vec<u8>, ZlibError> {
    let level = match level {
        Some(l) if (0..=9).contains(&l) => Compression::new(l as u32),
        _ => Compression::new(6),
    };
    match mode {
        "gzip" => Ok(gzip(data, level)),
        "deflate" => Ok(deflate(data, level, true)),
        "deflateRaw" => Ok(deflate(data, level, false)),
        "gunzip" => gunzip(data),
        "inflate" => {
            check_zlib_header(data)?;
            inflate(data, true).map(|(out, _)| out)
        }
        "inflateRaw" => inflate(data, false).map(|(out, _)| out),
        "unzip" => {
            if data.len() >= 2 && data[0] == 0x1f && data[1] == 0x8b {
                gunzip(data)
            } else {
                check_zlib_header(data)?;
                inflate(data, true).map(|(out, _)| out)
            }
        }
        "brotliDecompress" => brotli(data),
        _ => Err(ZlibError {
            message: format!("bolt: zlib mode {mode} is not available"),
            code: "ERR_BOLT_SANDBOX",
            errno: 0,
            partial: Vec::new(),
        }),
    }
}

fn deflate(data: &[u8], level: Compression, zlib_header: bool) -> Vec<u8> {
    let mut compress = Compress::new(level, zlib_header);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = compress.total_in() as usize;
        match compress.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            Ok(_) => {}
            // Compressing from memory into a growing buffer has no failure mode.
            Err(_) => return out,
        }
    }
}

fn gzip(data: &[u8], level: Compression) -> Vec<u8> {
    // The header zlib writes for Node: no name, no mtime, XFL by level, OS = Unix.
    let xfl = match level.level() {
        9 => 2,
        1 => 4,
        _ => 0,
    };
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3];
    out.extend(deflate(data, level, false));
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn check_zlib_header(data: &[u8]) -> Result<(), ZlibError> {
    if data.len() < 2 {
        return Err(unexpected_end());
    }
    let (cmf, flg) = (data[0] as u16, data[1] as u16);
    if cmf & 0x0f != 8 || (cmf * 256 + flg) % 31 != 0 {
        return Err(data_error("incorrect header check"));
    }
    Ok(())
}

/// Inflates one stream; returns the output and the input bytes it used.
fn inflate(data: &[u8], zlib_header: bool) -> Result<(Vec<u8>, usize), ZlibError> {
    let mut decompress = Decompress::new(zlib_header);
    let mut out = Vec::with_capacity(data.len().saturating_mul(3).max(1024));
    loop {
        if out.capacity() - out.len() < 16 * 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = decompress.total_in() as usize;
        let produced = decompress.total_out();
        let status = decompress
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("check") {
                    data_error("incorrect data check")
                } else {
                    data_error(&text)
                }
            })?;
        if status == Status::StreamEnd {
            return Ok((out, decompress.total_in() as usize));
        }
        let stalled =
            decompress.total_in() as usize == consumed && decompress.total_out() == produced;
        if stalled && consumed >= data.len() {
            return Err(truncated(out));
        }
        if stalled && out.capacity() - out.len() >= 16 * 1024 {
            return Err(data_error("invalid stored block lengths"));
        }
    }
}

/// Every gzip member in `data` (Node decompresses concatenated members and ignores trailing
/// bytes that don't start another member).
fn gunzip(data: &[u8]) -> Result<Vec<u8>, ZlibError> {
    let mut out = Vec::new();
    let mut rest = data;
    loop {
        let header = gzip_header_len(rest).map_err(|e| ZlibError {
            partial: out.clone(),
            ..e
        })?;
        let (member, used) = inflate(&rest[header..], false).map_err(|mut e| {
            let mut partial = out.clone();
            partial.append(&mut e.partial);
            ZlibError { partial, ..e }
        })?;
        let trailer = &rest[header + used..];
        if trailer.len() < 8 {
            out.extend(member);
            return Err(truncated(out));
        }
        let mut crc = Crc::new();
        crc.update(&member);
        let expected = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if crc.sum() != expected {
            return Err(data_error("incorrect data check"));
        }
        if size != member.len() as u32 {
            return Err(data_error("incorrect length check"));
        }
        out.extend(member);
        rest = &trailer[8..];
        if rest.len() < 2 || rest[0] != 0x1f || rest[1] != 0x8b {
            return Ok(out);
        }
    }
}

/// The length of the gzip header at the start of `data`.
fn gzip_header_len(data: &[u8]) -> Result<usize, ZlibError> {
    if data.len() >= 2 && (data[0] != 0x1f || data[1] != 0x8b) {
        return Err(data_error("incorrect header check"));
    }
    if data.len() < 10 {
        return Err(unexpected_end());
    }
    if data[2] != 8 {
        return Err(data_error("unknown compression method"));
    }
    let flags = data[3];
    let mut at = 10;
    if flags & 0x04 != 0 {
        let extra = *data.get(at).ok_or_else(unexpected_end)? as usize
            | (*data.get(at + 1).ok_or_else(unexpected_end)? as usize) << 8;
        at += 2 + extra;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let end = data
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
                .ok_or_else(unexpected_end)?;
            at += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    if at > data.len() {
        return Err(unexpected_end());
    }
    Ok(at)
}

fn brotli(data: &[u8]) -> Result<Vec<u8>, ZlibError> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(data, 4096)
        .read_to_end(&mut out)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                unexpected_end()
            } else {
                ZlibError {
                    message: "Decompression failed".to_string(),
                    code: "ERR_BROTLI_DECOMPRESSION_FAILED",
                    errno: -6,
                    partial: Vec::new(),
                }
            }
        })?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_format_and_reports_zlib_errors() {
        let text = b"hello hello hello hello, zlib".repeat(50);
        for (pack, unpack) in [
            ("gzip", "gunzip"),
            ("deflate", "inflate"),
            ("deflateRaw", "inflateRaw"),
            ("gzip", "unzip"),
            ("deflate", "unzip"),
        ] {
            let packed = run(pack, &text, None).unwrap();
            assert_eq!(run(unpack, &packed, None).unwrap(), text, "{pack}/{unpack}");
        }
        let mut two = run("gzip", b"ab", None).unwrap();
        two.extend(run("gzip", b"cd", None).unwrap());
        assert_eq!(run("gunzip", &two, None).unwrap(), b"abcd");
        assert_eq!(
            run("gunzip", b"not gzip at all", None).unwrap_err().message,
            "incorrect header check"
        );
        let numbers: Vec<u8> = (0..5000)
            .flat_map(|n: u32| format!("{} ", n.wrapping_mul(2654435761)).into_bytes())
            .collect();
        let packed = run("gzip", &numbers, None).unwrap();
        let cut = run("gunzip", &packed[..packed.len() / 2], None).unwrap_err();
        assert_eq!(
            (cut.message.as_str(), cut.code, cut.errno),
            ("unexpected end of file", "Z_BUF_ERROR", -5)
        );
        assert!(!cut.partial.is_empty() && numbers.starts_with(&cut.partial));
        assert_eq!(
            run("inflate", b"xx", None).unwrap_err().message,
            "incorrect header check"
        );
    }
}
