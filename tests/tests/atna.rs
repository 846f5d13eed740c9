//! IHE ATNA through the real binaries: audit events reach a local syslog collector over
//! UDP, TCP and TLS as RFC 5424 messages whose XML has RFC 3881's AuditMessage structure;
//! a collector that is down never blocks a change and gets the events when it is back.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::tls::test_certificates;
use bolt_e2e::{Daemon, ok};
use bolt_sql::{DbExt, params};

fn project(n: u32) -> String {
    format!(
        r#"
name: audited
workflows:
  pipeline:
    name: Pipeline
    jobs:
      fetch:
        name: Fetch
        body: |
          fn(state => ({{ ...state, n: {n} }}))
    triggers:
      hook: {{type: webhook, custom_path: audited}}
    edges:
      hook->fetch: {{source_trigger: hook, target_job: fetch, condition_type: always}}
"#
    )
}

/// The collector's first connection from boltd; fails (with boltd's log) after 30 s
/// instead of waiting forever.
fn accept_within(collector: &std::net::TcpListener, daemon: &Daemon) -> std::net::TcpStream {
    collector.set_nonblocking(true).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match collector.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "boltd never connected to the collector; its log: {}",
                    daemon.log()
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(err) => panic!("accept: {err}"),
        }
    }
}

/// One element of an audit message: its name, attributes, and children.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: std::collections::BTreeMap<String, String>,
    children: Vec<Element>,
}

impl Element {
    fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    fn attr(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("{} has no {name}: {self:?}", self.name))
    }
}

/// Parses the XML into a tree (well-formedness is the parser's).
fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::{BytesStart, Event};
    fn element(start: &BytesStart) -> Element {
        Element {
            name: String::from_utf8(start.name().as_ref().to_vec()).unwrap(),
            attributes: start
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().unwrap().into_owned(),
                    )
                })
                .collect(),
            children: Vec::new(),
        }
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let done = element(&start);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return done,
                }
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return done,
                }
            }
            Event::Eof => panic!("the XML ended inside an element: {xml}"),
            _ => {}
        }
    }
}

/// Checks a syslog message as RFC 5424 frames an ATNA record and its XML against RFC
/// 3881's AuditMessage schema; returns the message.
fn audit_message(syslog: &[u8]) -> Element {
    let text = std::str::from_utf8(syslog).unwrap();
    let parts: Vec<&str> = text.splitn(8, ' ').collect();
    assert_eq!(parts[0], "<85>1", "PRI authpriv.notice, version 1: {text}");
    chrono::DateTime::parse_from_rfc3339(parts[1]).unwrap();
    assert_eq!(
        (parts[3], parts[5], parts[6]),
        ("bolt", "IHE+RFC-3881", "-")
    );
    let xml = parts[7]
        .strip_prefix('\u{FEFF}')
        .expect("the MSG starts with a BOM");
    let message = parse_xml(xml);
    assert_eq!(message.name, "AuditMessage");
    // The schema's sequence: one EventIdentification, ActiveParticipant+,
    // AuditSourceIdentification+, ParticipantObjectIdentification*.
    let order: Vec<&str> = message.children.iter().map(|c| c.name.as_str()).collect();
    let rank = |name: &str| match name {
        "EventIdentification" => 0,
        "ActiveParticipant" => 1,
        "AuditSourceIdentification" => 2,
        "ParticipantObjectIdentification" => 3,
        other => panic!("AuditMessage has no {other} element"),
    };
    assert!(
        order.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{order:?}"
    );
    let event = message.all("EventIdentification");
    assert_eq!(event.len(), 1);
    let event = event[0];
    assert!(["C", "R", "U", "D", "E"].contains(&event.attr("EventActionCode")));
    chrono::DateTime::parse_from_rfc3339(event.attr("EventDateTime")).unwrap();
    assert!(["0", "4", "8", "12"].contains(&event.attr("EventOutcomeIndicator")));
    let id = event.all("EventID");
    assert_eq!(id.len(), 1);
    assert!(!id[0].attr("csd-code").is_empty());
    assert_eq!(id[0].attr("codeSystemName"), "DCM");
    let participants = message.all("ActiveParticipant");
    assert!(!participants.is_empty());
    for p in &participants {
        assert!(!p.attr("UserID").is_empty());
        assert!(["true", "false"].contains(&p.attr("UserIsRequestor")));
    }
    let sources = message.all("AuditSourceIdentification");
    assert!(!sources.is_empty());
    assert!(sources[0].attr("AuditSourceID").starts_with("bolt@"));
    for object in message.all("ParticipantObjectIdentification") {
        assert!(!object.attr("ParticipantObjectID").is_empty());
        let code: u32 = object.attr("ParticipantObjectTypeCode").parse().unwrap();
        assert!((1..=4).contains(&code));
        let role: u32 = object
            .attr("ParticipantObjectTypeCodeRole")
            .parse()
            .unwrap();
        assert!((1..=24).contains(&role));
        assert_eq!(object.all("ParticipantObjectIDTypeCode").len(), 1);
        for detail in object.all("ParticipantObjectDetail") {
            assert!(!detail.attr("type").is_empty());
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(detail.attr("value"))
                .unwrap();
        }
    }
    message
}

/// The bolt kind, requestor and object of a message.
fn summary(message: &Element) -> (String, String, String) {
    let event = message.all("EventIdentification")[0];
    let kind = event
        .all("EventTypeCode")
        .into_iter()
        .find(|c| c.attr("codeSystemName") == "urn:bolt:audit")
        .unwrap()
        .attr("csd-code")
        .to_string();
    let requestor = message
        .all("ActiveParticipant")
        .into_iter()
        .find(|p| p.attr("UserIsRequestor") == "true")
        .unwrap()
        .attr("UserID")
        .to_string();
    let object = message.all("ParticipantObjectIdentification")[0]
        .attr("ParticipantObjectID")
        .to_string();
    (kind, requestor, object)
}

/// A port nobody listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn outbox(daemon: &Daemon) -> i64 {
    daemon
        .database()
        .query_one("SELECT COUNT(*) FROM audit_outbox", params![])
        .unwrap()
}

#[test]
fn atna_messages_reach_a_udp_collector() {
    let collector = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    collector
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let port = collector.local_addr().unwrap().port();
    let daemon =
        Daemon::start_with_config(&format!("[audit]\nsyslog = \"udp://127.0.0.1:{port}\"\n"));
    daemon.deploy_text(&project(1));
    ok(&daemon.bolt_with_stdin(
        &["credential", "set", "api"],
        Some(r#"{"password": "never-in-a-message"}"#),
    ));
    let mut seen = Vec::new();
    let mut buffer = vec![0u8; 65536];
    while !seen.iter().any(|(kind, _, _)| kind == "credential.created") {
        let (n, _) = collector.recv_from(&mut buffer).expect("an ATNA message");
        let datagram = &buffer[..n];
        assert!(
            !String::from_utf8_lossy(datagram).contains("never-in-a-message"),
            "a secret reached the collector"
        );
        seen.push(summary(&audit_message(datagram)));
    }
    assert!(
        seen.contains(&("workflow.deployed".into(), "root".into(), "pipeline".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("credential.created".into(), "root".into(), "api".into())),
        "{seen:?}"
    );
}

#[test]
fn a_tcp_collector_that_is_down_gets_the_events_when_it_returns() {
    use std::io::{BufRead, BufReader, Read};
    let port = free_port();
    let daemon =
        Daemon::start_with_config(&format!("[audit]\nsyslog = \"tcp://127.0.0.1:{port}\"\n"));
    // Nobody listens: the changes are made all the same, their events wait in the store.
    daemon.deploy_text(&project(1));
    daemon.deploy_text(&project(2));
    ok(&daemon.bolt(&["rollback", "Pipeline", "--to", "1"]));
    assert!(outbox(&daemon) >= 5);
    // `bolt status` tells, once boltd has tried, why they wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = ok(&daemon.bolt(&["status"]));
        if status.contains("audit events waiting for the collector (connecting:") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let collector = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let stream = accept_within(&collector, &daemon);
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|(kind, _, _): &(String, _, _)| kind == "workflow.rolled_back")
    {
        // RFC 6587 octet counting: LEN SP MSG.
        let mut length = Vec::new();
        if let Err(err) = reader.read_until(b' ', &mut length) {
            panic!("no message from boltd ({err}); its log: {}", daemon.log());
        }
        let length: usize = std::str::from_utf8(&length)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut message = vec![0u8; length];
        reader.read_exact(&mut message).unwrap();
        seen.push(summary(&audit_message(&message)));
    }
    let kinds: Vec<&str> = seen.iter().map(|(k, _, _)| k.as_str()).collect();
    let deployed = kinds
        .iter()
        .position(|k| *k == "workflow.deployed")
        .unwrap();
    let rolled_back = kinds
        .iter()
        .position(|k| *k == "workflow.rolled_back")
        .unwrap();
    assert!(deployed < rolled_back, "delivered in order: {kinds:?}");
    // Acknowledged events leave the outbox.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while outbox(&daemon) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox never emptied"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = ok(&daemon.bolt(&["status"]));
    assert!(status.contains("every audit event delivered"), "{status}");
}

#[test]
fn atna_messages_reach_a_tls_collector_trusted_through_syslog_ca() {
    use std::io::{BufRead, BufReader, Read};
    let certs_dir = tempfile::tempdir().unwrap();
    let Some(certificates) = test_certificates(certs_dir.path(), "DNS:localhost") else {
        return;
    };
    let collector = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = collector.local_addr().unwrap().port();
    let daemon = Daemon::start_with_config(&format!(
        "[audit]\nsyslog = \"tls://localhost:{port}\"\nsyslog_ca = \"{}\"\n",
        certificates.ca.display()
    ));
    daemon.deploy_text(&project(1));

    let tcp = accept_within(&collector, &daemon);
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let connection = rustls::ServerConnection::new(certificates.server).unwrap();
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, tcp));
    let mut length = Vec::new();
    if let Err(err) = reader.read_until(b' ', &mut length) {
        panic!("no message from boltd ({err}); its log: {}", daemon.log());
    }
    let length: usize = std::str::from_utf8(&length)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut message = vec![0u8; length];
    reader.read_exact(&mut message).unwrap();
    let (kind, requestor, _) = summary(&audit_message(&message));
    assert_eq!(
        (kind.as_str(), requestor.as_str()),
        ("workflow.deployed", "root")
    );
}
