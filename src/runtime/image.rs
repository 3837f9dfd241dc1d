//! geth images for the docker runtime. Hospitals' clinical networks are
//! often air-gapped, so medchain never pulls: it uses an image already on
//! the engine, or builds one offline — `FROM scratch` plus the provisioned,
//! statically linked geth, labelled with the binary's SHA-256 — through the
//! Docker API.
//!
//! Which image a node runs: the topology's `image` (hospital, then
//! network) when set, which must already be on the engine; otherwise
//! medchain's local build `medchain/geth:v<version>` when present, else the
//! official `ethereum/client-go:v<version>` when present, else the local
//! build is made on the spot.

use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use bollard::query_parameters::BuildImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::container_plan::GETH_BIN;
use crate::geth::GethVersion;

/// Tag of medchain's offline build for a geth release.
pub(crate) fn local_tag(v: GethVersion) -> String {
    format!("medchain/geth:{v}")
}

/// Tag of the official image for a geth release.
pub(crate) fn official_tag(v: GethVersion) -> String {
    format!("ethereum/client-go:{v}")
}

/// The Dockerfile of the offline build.
pub(crate) fn dockerfile(v: GethVersion, sha256: &str) -> String {
    format!(
        "FROM scratch\n\
         COPY geth {GETH_BIN}\n\
         ENV PATH=/usr/local/bin\n\
         EXPOSE 8545 8546 30303 30303/udp\n\
         LABEL medchain.geth.version=\"{}\" medchain.geth.sha256=\"{sha256}\"\n\
         ENTRYPOINT [\"{GETH_BIN}\"]\n",
        v.number()
    )
}

/// SHA-256 of a file, hex.
pub(crate) fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

/// The build context: a tar with the Dockerfile and the geth binary.
pub(crate) fn build_context(v: GethVersion, geth: &Path) -> anyhow::Result<Vec<u8>> {
    let sha = sha256_file(geth)?;
    let mut tar = tar::Builder::new(Vec::new());
    let df = dockerfile(v, &sha);
    let mut header = tar::Header::new_gnu();
    header.set_size(df.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "Dockerfile", df.as_bytes())?;
    let mut f = std::fs::File::open(geth).with_context(|| format!("opening {}", geth.display()))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(f.metadata()?.len());
    header.set_mode(0o755);
    header.set_cksum();
    tar.append_data(&mut header, "geth", &mut f)?;
    let mut out = tar.into_inner()?;
    out.flush()?;
    Ok(out)
}

/// Whether the engine has an image by that reference.
pub async fn present(docker: &Docker, image: &str) -> anyhow::Result<bool> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("inspecting image {image}")),
    }
}

/// Builds `medchain/geth:v<version>` from a static geth binary, offline.
/// Returns the tag.
pub async fn build(docker: &Docker, v: GethVersion, geth: &Path) -> anyhow::Result<String> {
    let tag = local_tag(v);
    let context = build_context(v, geth)?;
    let opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&tag)
        .rm(true)
        .forcerm(true)
        .pull("false")
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.with_context(|| format!("building image {tag}"))?;
        if let Some(s) = info.stream {
            log.push_str(&s);
        }
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            bail!("building image {tag} failed: {e}\n{log}");
        }
    }
    if !present(docker, &tag).await? {
        bail!("building image {tag} reported success but the image is missing:\n{log}");
    }
    Ok(tag)
}

/// The image a node runs (see the module docs); builds the local image
/// when nothing suitable is on the engine. `say` reports a build.
pub(crate) async fn resolve(
    docker: &Docker,
    configured: Option<&str>,
    v: GethVersion,
    geth: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<String> {
    if let Some(image) = configured {
        if present(docker, image).await? {
            return Ok(image.to_string());
        }
        return Err(crate::error::InputError::new(format!(
            "image {image:?} (topology `image`) is not on the Docker engine and medchain never pulls: \
             load it (`docker pull {image}` where a registry is reachable, or `docker load`), \
             or remove `image` to use medchain's offline build (`medchain image build`)"
        ))
        .into());
    }
    for tag in [local_tag(v), official_tag(v)] {
        if present(docker, &tag).await? {
            return Ok(tag);
        }
    }
    say(format!(
        "building the offline image {} from {} (no image for geth {v} on the engine)",
        local_tag(v),
        geth.display()
    ));
    build(docker, v, geth).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_is_from_scratch_with_geth_as_entrypoint() {
        let d = dockerfile(GethVersion::V1_13_15, "ab12");
        assert!(d.starts_with("FROM scratch\n"));
        assert!(d.contains("COPY geth /usr/local/bin/geth"));
        assert!(d.contains("ENTRYPOINT [\"/usr/local/bin/geth\"]"));
        assert!(d.contains("medchain.geth.sha256=\"ab12\""));
        assert_eq!(local_tag(GethVersion::V1_11_6), "medchain/geth:v1.11.6");
        assert_eq!(
            official_tag(GethVersion::V1_13_15),
            "ethereum/client-go:v1.13.15"
        );
    }

    #[test]
    fn build_context_holds_dockerfile_and_executable_geth() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("geth");
        std::fs::write(&bin, b"\x7fELF fake").unwrap();
        let ctx = build_context(GethVersion::V1_13_15, &bin).unwrap();
        let mut ar = tar::Archive::new(ctx.as_slice());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            names.push((
                e.path().unwrap().display().to_string(),
                e.header().mode().unwrap(),
            ));
        }
        assert_eq!(
            names,
            vec![
                ("Dockerfile".to_string(), 0o644),
                ("geth".to_string(), 0o755)
            ]
        );
    }
}
