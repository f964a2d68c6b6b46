//! Who sent a request: the client's address, believed from `X-Forwarded-For` only when a
//! configured proxy says so, and kept only as a keyed hash (HMAC) so it can be counted and
//! compared but never recovered.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, StatusCode, request::Parts},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What it takes to name a client: the proxies whose word is trusted and the hashing key.
#[derive(Clone)]
pub struct ClientKeys {
    pub trusted_proxies: Arc<[IpAddr]>,
    pub address_key: Arc<[u8]>,
}

/// The request's client.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: IpAddr,
    /// A keyed hash of `address`: what is stored and compared.
    pub hash: Vec<u8>,
}

impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    ClientKeys: FromRef<S>,
{
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let keys = ClientKeys::from_ref(state);
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
        let address = client_address(&keys.trusted_proxies, peer, &parts.headers);
        Ok(Self {
            address,
            hash: address_hash(&keys.address_key, address),
        })
    }
}

/// The client's address: the peer, or the address a trusted proxy says it forwarded for. Only a
/// configured proxy is believed; the nearest address it did not add itself wins.
pub fn client_address(trusted: &[IpAddr], peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !trusted.contains(&peer.ip()) {
        return peer.ip();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer.ip())
}

/// Whether a request comes from this machine itself: from a loopback address, and not passed on
/// by a proxy (a proxy on the same machine is loopback too, but adds its forwarding headers).
pub fn is_local(peer: SocketAddr, headers: &HeaderMap) -> bool {
    const FORWARDING: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];
    peer.ip().to_canonical().is_loopback() && !FORWARDING.iter().any(|h| headers.contains_key(*h))
}

/// A keyed hash of a client address: enough to count and compare, useless to recover the address.
pub fn address_hash(key: &[u8], address: IpAddr) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"address\x1f");
    mac.update(address.to_string().as_bytes());
    mac.update(b"\x1f");
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hashes_are_stable_per_key_and_hide_the_address() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_hash(b"k", ip), address_hash(b"k", ip));
        assert_ne!(address_hash(b"k", ip), address_hash(b"other", ip));
        assert!(!String::from_utf8_lossy(&address_hash(b"k", ip)).contains("192.0.2.7"));
    }

    #[test]
    fn only_a_loopback_peer_without_forwarding_headers_is_local() {
        let headers = HeaderMap::new();
        let local = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 1234);
        assert!(is_local(local("127.0.0.1"), &headers));
        assert!(is_local(local("::1"), &headers));
        assert!(is_local(local("::ffff:127.0.0.1"), &headers));
        assert!(!is_local(local("192.0.2.7"), &headers));
        let mut forwarded = HeaderMap::new();
        forwarded.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert!(!is_local(local("127.0.0.1"), &forwarded));
        let mut forwarded = HeaderMap::new();
        forwarded.insert("forwarded", "for=203.0.113.9".parse().unwrap());
        assert!(!is_local(local("127.0.0.1"), &forwarded));
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.4".parse().unwrap());
        let peer = SocketAddr::new(proxy, 1234);
        assert_eq!(
            client_address(&[proxy], peer, &headers),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(&[], peer, &headers), proxy);
    }
}
