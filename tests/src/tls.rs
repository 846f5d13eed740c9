//! A private CA and a server certificate it signed, made with the openssl command, for the
//! tests of the TLS connections boltd makes (syslog, SMTP) to servers the tests run.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// What [`test_certificates`] made.
pub struct TestCertificates {
    /// The CA's certificate (PEM), for boltd to trust.
    pub ca: PathBuf,
    /// A TLS server presenting the certificate the CA signed.
    pub server: Arc<rustls::ServerConfig>,
}

/// Makes, in `dir`, a CA and a server certificate it signed for `subject_alt_name`
/// (`DNS:localhost`, `IP:127.0.0.1`). `None`, after a notice, without openssl.
pub fn test_certificates(dir: &Path, subject_alt_name: &str) -> Option<TestCertificates> {
    if !make(dir, subject_alt_name) {
        eprintln!("notice: skipped: openssl could not make test certificates");
        return None;
    }
    let chain = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .ok()?;
    Some(TestCertificates {
        ca: dir.join("ca.pem"),
        server: Arc::new(server),
    })
}

/// `ca.pem` and `server.pem`/`server.key` in `dir`; whether openssl made them all.
fn make(dir: &Path, subject_alt_name: &str) -> bool {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let extensions = format!(
        "subjectAltName={subject_alt_name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    );
    std::fs::write(dir.join("server.ext"), extensions).is_ok()
        && openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=bolt test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
        )
        && openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=bolt test server",
                ],
            ]
            .concat(),
        )
        && openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ])
}
