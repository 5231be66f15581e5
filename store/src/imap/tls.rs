//! TLS for IMAP: rustls with the ring provider, trusting the system's roots or the
//! certificates of a `--ca` file. A certificate in that file may be a CA or the server's own
//! (self-signed) certificate; there is no way to turn verification off.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::{WebPkiServerVerifier, verify_server_name};
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::ImapError;

/// The most certificates read from a `--ca` file.
const MAX_CA_CERTS: usize = 1000;

/// Where trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trust {
    /// The operating system's root certificates (rustls-native-certs).
    System,
    /// The certificates of a PEM file: CAs, or a server's own certificate.
    File(std::path::PathBuf),
}

/// Builds the TLS connector for `trust`.
pub(crate) fn connector(trust: &Trust) -> Result<TlsConnector, ImapError> {
    // ring rather than aws-lc-rs: no C++/CMake build, and IMAP needs no post-quantum key
    // exchange to be safe today (rustls deprecates ring's default provider for that reason).
    #[allow(deprecated)]
    let provider = Arc::new(ring::default_provider());
    let mut roots = RootCertStore::empty();
    let mut pinned = Vec::new();
    match trust {
        Trust::System => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A malformed system certificate is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(ImapError::CaFile {
                    path: "(system roots)".into(),
                    reason: "no system root certificates were found; pass --ca FILE".into(),
                });
            }
        }
        Trust::File(path) => {
            for cert in read_pem(path)? {
                // A certificate that is not a valid trust anchor (a self-signed server
                // certificate marked as CA, say) is still accepted as a pinned certificate.
                let _ = roots.add(cert.clone());
                pinned.push(cert);
            }
        }
    }
    let webpki =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|e| ImapError::CaFile {
                path: trust_name(trust),
                reason: e.to_string(),
            })?;
    let verifier = Arc::new(Verifier { webpki, pinned });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::CaFile {
            path: trust_name(trust),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

fn trust_name(trust: &Trust) -> String {
    match trust {
        Trust::System => "(system roots)".into(),
        Trust::File(p) => p.display().to_string(),
    }
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, ImapError> {
    let err = |reason: String| ImapError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > 16 * 1024 * 1024 {
        return Err(err("larger than 16 MiB".into()));
    }
    let mut certs = Vec::new();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))?;
    for cert in iter.take(MAX_CA_CERTS) {
        certs.push(cert.map_err(|e| err(e.to_string()))?);
    }
    if certs.is_empty() {
        return Err(err(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        ));
    }
    Ok(certs)
}

/// The web PKI verifier, and beside it the certificates given in a file, each accepted as the
/// server's own certificate when it is presented exactly and names the server.
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("pinned", &self.pinned.len())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            Err(e) => {
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref())
                {
                    // The very certificate the user gave us: its key is trusted; its name must
                    // still be the server's.
                    let parsed = ParsedCertificate::try_from(end_entity)?;
                    verify_server_name(&parsed, server_name)?;
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
