//! Content addresses: the CIDv1 of stored bytes with the raw codec and a
//! sha2-256 multihash, the form an IPFS node gives a single-block file
//! added with raw leaves, so the same bytes put in IPFS get the same
//! address. The chain keeps only the 32-byte digest: the codec and hash
//! are fixed, so the CID is rebuilt from it.

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

/// The multicodec of raw bytes.
pub const RAW: u64 = 0x55;

/// The multihash code of sha2-256.
pub const SHA2_256: u64 = 0x12;

/// The CID of `bytes`.
pub fn of(bytes: &[u8]) -> Cid {
    from_digest(Sha256::digest(bytes).into())
}

/// The CID whose sha2-256 digest is `digest` (what the chain holds).
pub fn from_digest(digest: [u8; 32]) -> Cid {
    let mh = Multihash::<64>::wrap(SHA2_256, &digest).expect("32 bytes fit a 64-byte multihash");
    Cid::new_v1(RAW, mh)
}

/// The sha2-256 digest inside `cid`, when it is a raw sha2-256 CIDv1 (the
/// only kind medchain stores); `None` for any other.
pub fn digest(cid: &Cid) -> Option<[u8; 32]> {
    let mh = cid.hash();
    (cid.version() == cid::Version::V1 && cid.codec() == RAW && mh.code() == SHA2_256)
        .then(|| mh.digest().try_into().ok())
        .flatten()
}

/// Parses a CID as printed (`bafkrei…`), refusing any that is not a raw
/// sha2-256 CIDv1 with a line that says what was expected.
pub fn parse(text: &str) -> anyhow::Result<Cid> {
    let cid: Cid = text.parse().map_err(|e| {
        anyhow::anyhow!("{text:?} is not a CID ({e}); expected a CIDv1 like bafkrei…")
    })?;
    if digest(&cid).is_none() {
        anyhow::bail!(
            "{text:?} is not a raw sha2-256 CIDv1 (bafkrei…), the only kind medchain stores"
        );
    }
    Ok(cid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cid_of_bytes_is_a_base32_raw_sha256_cidv1() {
        let c = of(b"hello");
        let s = c.to_string();
        assert!(s.starts_with("bafkrei"), "{s}");
        assert_eq!(parse(&s).unwrap(), c);
        assert_eq!(digest(&c), Some(Sha256::digest(b"hello").into()));
        assert_eq!(from_digest(digest(&c).unwrap()), c);
        assert_ne!(of(b"hellp"), c);
        // The same bytes added to IPFS as a raw leaf (and multiformats'
        // CID.create(1, raw.code, sha256("hello"))) give this address.
        assert_eq!(
            s,
            "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
        );
    }

    #[test]
    fn other_cids_and_junk_are_refused() {
        // A CIDv0 (dag-pb) and a CIDv1 with the dag-pb codec.
        for other in [
            "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX",
            "bafybeid3weurg3gvyoi7nisadzolomlvoxoppe2sesktnpvdve3256n5tq",
        ] {
            let e = parse(other).unwrap_err().to_string();
            assert!(e.contains("raw sha2-256"), "{e}");
        }
        let e = parse("not-a-cid").unwrap_err().to_string();
        assert!(e.contains("is not a CID"), "{e}");
    }
}
