//! An audit event as an RFC 3881 / DICOM (PS3.15 A.5) `AuditMessage`: what happened
//! (EventIdentification), who did it and through what (ActiveParticipant), which system
//! reports it (AuditSourceIdentification) and what it was done to
//! (ParticipantObjectIdentification).

use base64::Engine;
use bolt_shared::audit::AuditEvent;
use quick_xml::Writer;
use std::io;

/// Metadata longer than this is cut in the message (the store keeps all of it).
const MAX_DETAIL_BYTES: usize = 16 * 1024;

/// The coded values bolt's event kinds map to.
struct Codes {
    /// DICOM EventID: (code, display name).
    event_id: (&'static str, &'static str),
    /// DICOM EventTypeCode, when one fits.
    event_type: Option<(&'static str, &'static str)>,
    /// RFC 3881 EventActionCode: C, R, U, D or E.
    action: &'static str,
    /// RFC 3881 ParticipantObjectTypeCodeRole.
    object_role: &'static str,
}

fn codes(kind: &str) -> Codes {
    let (subject_type, action) = kind.split_once('.').unwrap_or(("store", kind));
    const SECURITY_ALERT: (&str, &str) = ("110113", "Security Alert");
    const APPLICATION_ACTIVITY: (&str, &str) = ("110100", "Application Activity");
    const SECURITY_CONFIGURATION: (&str, &str) = ("110129", "Security Configuration");
    const SOFTWARE_CONFIGURATION: (&str, &str) = ("110131", "Software Configuration");
    let (event_id, event_type, object_role) = match subject_type {
        "credential" | "access" => (SECURITY_ALERT, Some(SECURITY_CONFIGURATION), "13"),
        "store" if action == "key_rotated" => (SECURITY_ALERT, Some(SECURITY_CONFIGURATION), "13"),
        "store" if action == "backed_up" => (("110106", "Export"), None, "17"),
        "audit" => (("110101", "Audit Log Used"), None, "17"),
        "workflow" if action == "triggered" => (APPLICATION_ACTIVITY, None, "21"),
        "work_order" | "run" => (APPLICATION_ACTIVITY, None, "20"),
        "workflow" => (SECURITY_ALERT, Some(SOFTWARE_CONFIGURATION), "21"),
        "adaptor" => (SECURITY_ALERT, Some(SOFTWARE_CONFIGURATION), "4"),
        _ => (SECURITY_ALERT, Some(SOFTWARE_CONFIGURATION), "5"),
    };
    let action = match action {
        "created" | "installed" => "C",
        "deleted" | "removed" | "purged" => "D",
        "rerun" | "triggered" | "cancelled" | "used" => "E",
        "backed_up" => "R",
        _ => "U",
    };
    Codes {
        event_id,
        event_type,
        action,
        object_role,
    }
}

/// The machine and process that report the events.
pub struct Source {
    pub host: String,
}

/// The `AuditMessage` XML of one event.
pub fn audit_message(event: &AuditEvent, source: &Source) -> io::Result<String> {
    let codes = codes(&event.kind);
    let subject_type = event.kind.split_once('.').map_or("store", |(t, _)| t);
    let at = event
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut writer = Writer::new(Vec::new());
    writer
        .create_element("AuditMessage")
        .write_inner_content(|w| {
            w.create_element("EventIdentification")
                .with_attribute(("EventActionCode", codes.action))
                .with_attribute(("EventDateTime", at.as_str()))
                .with_attribute(("EventOutcomeIndicator", "0"))
                .write_inner_content(|w| {
                    coded(w, "EventID", codes.event_id.0, "DCM", codes.event_id.1)?;
                    if let Some((code, name)) = codes.event_type {
                        coded(w, "EventTypeCode", code, "DCM", name)?;
                    }
                    coded(
                        w,
                        "EventTypeCode",
                        &event.kind,
                        "urn:bolt:audit",
                        &event.kind,
                    )
                })?;
            // Who: the Unix user (or webhook address, or boltd itself).
            w.create_element("ActiveParticipant")
                .with_attribute(("UserID", event.actor.as_str()))
                .with_attribute(("UserIsRequestor", "true"))
                .with_attribute(("NetworkAccessPointID", source.host.as_str()))
                .with_attribute(("NetworkAccessPointTypeCode", "1"))
                .write_empty()?;
            // Through what: boltd, the application that made the change.
            w.create_element("ActiveParticipant")
                .with_attribute(("UserID", "boltd"))
                .with_attribute(("AlternativeUserID", std::process::id().to_string().as_str()))
                .with_attribute(("UserIsRequestor", "false"))
                .with_attribute(("NetworkAccessPointID", source.host.as_str()))
                .with_attribute(("NetworkAccessPointTypeCode", "1"))
                .write_inner_content(|w| coded(w, "RoleIDCode", "110150", "DCM", "Application"))?;
            w.create_element("AuditSourceIdentification")
                .with_attribute(("AuditSourceID", format!("bolt@{}", source.host).as_str()))
                .write_inner_content(|w| {
                    // 4: application server process tier.
                    coded(w, "AuditSourceTypeCode", "4", "DCM", "Application Server")
                })?;
            w.create_element("ParticipantObjectIdentification")
                .with_attribute(("ParticipantObjectID", event.subject.as_str()))
                // 2: a system object.
                .with_attribute(("ParticipantObjectTypeCode", "2"))
                .with_attribute(("ParticipantObjectTypeCodeRole", codes.object_role))
                .write_inner_content(|w| {
                    coded(
                        w,
                        "ParticipantObjectIDTypeCode",
                        subject_type,
                        "urn:bolt:object",
                        subject_type,
                    )?;
                    detail(w, "bolt-audit-event-id", event.id.to_string().as_bytes())?;
                    if let Some(metadata) = &event.metadata {
                        let text = metadata.to_string();
                        let text = if text.len() > MAX_DETAIL_BYTES {
                            let mut end = MAX_DETAIL_BYTES;
                            while !text.is_char_boundary(end) {
                                end -= 1;
                            }
                            format!("{}…", &text[..end])
                        } else {
                            text
                        };
                        detail(w, "bolt-metadata", text.as_bytes())?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(io::Error::other)
}

/// A coded value as DICOM writes it: `csd-code`, `codeSystemName`, `originalText`.
fn coded(
    w: &mut Writer<Vec<u8>>,
    element: &str,
    code: &str,
    system: &str,
    text: &str,
) -> io::Result<()> {
    w.create_element(element)
        .with_attribute(("csd-code", code))
        .with_attribute(("codeSystemName", system))
        .with_attribute(("originalText", text))
        .write_empty()?;
    Ok(())
}

/// A `ParticipantObjectDetail`: its value is base64, as RFC 3881 types it.
fn detail(w: &mut Writer<Vec<u8>>, kind: &str, value: &[u8]) -> io::Result<()> {
    let value = base64::engine::general_purpose::STANDARD.encode(value);
    w.create_element("ParticipantObjectDetail")
        .with_attribute(("type", kind))
        .with_attribute(("value", value.as_str()))
        .write_empty()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_codes_follow_the_kind() {
        let event = AuditEvent {
            id: 7,
            at: chrono::Utc::now(),
            actor: "al<ice>\"".into(),
            kind: "credential.updated".into(),
            subject: "api & co".into(),
            metadata: Some(serde_json::json!({ "set": ["password"] })),
        };
        let xml = audit_message(&event, &Source { host: "h".into() }).unwrap();
        assert!(
            xml.starts_with("<AuditMessage><EventIdentification EventActionCode=\"U\""),
            "{xml}"
        );
        assert!(xml.contains("UserID=\"al&lt;ice&gt;&quot;\""), "{xml}");
        assert!(
            xml.contains("ParticipantObjectID=\"api &amp; co\""),
            "{xml}"
        );
        assert!(xml.contains("csd-code=\"110129\""), "{xml}");
        assert!(
            xml.contains("ParticipantObjectTypeCodeRole=\"13\""),
            "{xml}"
        );
    }
}
