//! `medchain image build`: the local geth images, built offline.

use clap::Subcommand;

use crate::geth;
use crate::outln;
use crate::runtime::{self, image};

/// `medchain image …`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build medchain/geth:v<version> offline (FROM scratch + the provisioned static geth) on the local engine.
    Build {
        /// Only this release (1.13.15 for clique, 1.11.6 for ethash); default both.
        #[arg(long)]
        version: Option<String>,
    },
}

/// Builds each image on the local engine and prints its tag and content.
pub(crate) async fn execute(cmd: ImageCommand) -> anyhow::Result<()> {
    let ImageCommand::Build { version } = cmd;
    for v in super::geth::versions(version.as_deref())? {
        let (path, _) = geth::resolve(v, None, &|m| eprintln!("{m}"))?;
        let tag = runtime::build_local_image(v, &path).await?;
        outln!(
            "image {tag}: FROM scratch + {} (sha256 {})",
            path.display(),
            image::sha256_file(&path)?
        );
    }
    Ok(())
}
