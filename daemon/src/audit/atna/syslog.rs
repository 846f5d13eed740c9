//! RFC 5424 syslog messages carrying ATNA audit XML, and RFC 6587 octet counting for
//! stream transports (TCP, and TLS as RFC 5425 frames it).

/// authpriv (10) × 8 + notice (5), as IHE ATNA (ITI-20) sends audit records.
const PRI: u8 = 85;

/// MSGID of an RFC 3881 audit message in IHE ITI-20.
const MSGID: &str = "IHE+RFC-3881";

/// One syslog message: header, no structured data, the XML as UTF-8 (with its BOM).
pub fn message(at: chrono::DateTime<chrono::Utc>, host: &str, xml: &str) -> Vec<u8> {
    let timestamp = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let host = header_field(host);
    let pid = std::process::id();
    format!("<{PRI}>1 {timestamp} {host} bolt {pid} {MSGID} - \u{FEFF}{xml}").into_bytes()
}

/// An RFC 5424 header field: printable ASCII without spaces, at most 255 characters, or
/// `-` when nothing is left.
fn header_field(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if cleaned.is_empty() {
        "-".into()
    } else {
        cleaned
    }
}

/// `LEN SP MSG`: how TCP and TLS receivers tell one message from the next.
pub fn octet_counted(message: &[u8]) -> Vec<u8> {
    let mut framed = format!("{} ", message.len()).into_bytes();
    framed.extend_from_slice(message);
    framed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_has_the_5424_header_and_a_counted_frame() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let text = String::from_utf8(message(at, "my host", "<AuditMessage/>")).unwrap();
        let pid = std::process::id();
        assert_eq!(
            text,
            format!(
                "<85>1 2026-01-02T03:04:05.123456Z myhost bolt {pid} IHE+RFC-3881 - \u{FEFF}<AuditMessage/>"
            )
        );
        assert_eq!(octet_counted(b"abc"), b"3 abc");
    }
}
