//! WHATWG text decoders for `TextDecoder` and Buffer's string conversions (encoding_rs).

use encoding_rs::Encoding;

/// The canonical lower-case WHATWG name of an encoding label (`latin1` → `windows-1252`).
pub fn canonical_name(label: &str) -> Option<String> {
    Encoding::for_label_no_replacement(label.trim().as_bytes())
        .map(|encoding| encoding.name().to_ascii_lowercase())
}

/// Decodes `bytes` (the caller has handled any BOM). `fatal`: invalid input is an error
/// (`TypeError` text as Node words it) instead of U+FFFD.
pub fn decode(label: &str, bytes: &[u8], fatal: bool) -> Result<String, String> {
    let encoding = Encoding::for_label_no_replacement(label.trim().as_bytes())
        .ok_or_else(|| format!("The \"{label}\" encoding is not supported"))?;
    if fatal {
        encoding
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned())
            .ok_or_else(|| {
                format!(
                    "The encoded data was not valid for encoding {}",
                    encoding.name().to_ascii_lowercase()
                )
            })
    } else {
        Ok(encoding.decode_without_bom_handling(bytes).0.into_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn decodes_by_label_and_refuses_invalid_input_when_fatal() {
        assert_eq!(canonical_name("Latin1").as_deref(), Some("windows-1252"));
        assert_eq!(canonical_name("nope"), None);
        assert_eq!(decode("utf-8", "héllo".as_bytes(), true).unwrap(), "héllo");
        assert_eq!(decode("windows-1252", &[0x80, 0xe9], false).unwrap(), "€é");
        assert_eq!(decode("utf-8", &[0xff], false).unwrap(), "\u{fffd}");
        assert!(decode("utf-8", &[0xff], true).is_err());
        assert_eq!(
            decode("utf-16le", &[0x68, 0, 0x69, 0], false).unwrap(),
            "hi"
        );
    }
}
