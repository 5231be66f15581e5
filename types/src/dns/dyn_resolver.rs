//! [`DynResolver`]: the object-safe form of [`Resolver`], for resolvers chosen at run time.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

use super::{DnsResult, Mx, Resolver, Txt};
use crate::Domain;

/// A [`Resolver`] that can be a trait object (`Box<dyn DynResolver>`, `Arc<dyn DynResolver>`,
/// `&dyn DynResolver`).
///
/// [`Resolver`] returns `impl Future` from its methods, so `dyn Resolver` does not exist. This
/// trait returns boxed futures instead, and every `Resolver` is a `DynResolver` (a blanket
/// implementation), so a program that picks its resolver at run time (offline zone files or real
/// DNS, say) boxes whichever it built. The trait object is a [`Resolver`] again, and so are
/// `Box`, `Arc` and `&` of it, so a boxed resolver goes wherever a `Resolver` is expected. Each
/// lookup costs one allocation for its future.
///
/// The futures are `Send` and the trait objects are `Send + Sync`, as [`Resolver`] requires, so a
/// boxed resolver can be moved to another thread and used from a multi-threaded runtime.
///
/// The methods are named apart from [`Resolver`]'s (`boxed_txt` rather than `txt`) so that a call
/// such as `resolver.txt(name)` is never ambiguous when both traits are in scope. Call the
/// [`Resolver`] methods; these exist for the trait object.
///
/// # Examples
///
/// Two resolvers, one chosen at run time, used through the [`Resolver`] trait:
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// use std::sync::Arc;
/// use mailward_types::dns::{DnsError, DnsResult, DynResolver, Lookup, Mx, Resolver, Txt};
/// use mailward_types::Domain;
///
/// /// Knows one TXT record.
/// struct Offline;
/// /// Fails every lookup.
/// struct Down;
///
/// impl Resolver for Offline {
///     async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
///         if name.as_str() == "example.com" {
///             Ok(Lookup::new(vec![Txt::from("v=spf1 -all")], 300))
///         } else {
///             Err(DnsError::NXDOMAIN)
///         }
///     }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NXDOMAIN) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NXDOMAIN) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NXDOMAIN) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NXDOMAIN) }
/// }
///
/// impl Resolver for Down {
///     async fn txt(&self, _: &Domain) -> DnsResult<Txt> { Err(DnsError::ServFail) }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::ServFail) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::ServFail) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::ServFail) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::ServFail) }
/// }
///
/// fn choose(offline: bool) -> Box<dyn DynResolver> {
///     if offline { Box::new(Offline) } else { Box::new(Down) }
/// }
///
/// // Any code generic over `Resolver` takes the boxed one.
/// async fn spf_text(resolver: &impl Resolver, domain: &Domain) -> Option<String> {
///     let answer = resolver.txt(domain).await.ok()?;
///     Some(String::from_utf8_lossy(&answer.first()?.concat()).into_owned())
/// }
///
/// let domain: Domain = "example.com".parse()?;
/// let resolver = choose(true);
/// let text = pollster::block_on(spf_text(&resolver, &domain));
/// assert_eq!(text.as_deref(), Some("v=spf1 -all"));
///
/// // Shared between tasks or threads: an `Arc`.
/// let shared: Arc<dyn DynResolver> = Arc::from(choose(false));
/// let answer = pollster::block_on(shared.txt(&domain));
/// assert_eq!(answer, Err(DnsError::ServFail));
/// # Ok::<(), mailward_types::DomainError>(())
/// ```
pub trait DynResolver: Send + Sync {
    /// [`Resolver::txt`], boxed.
    fn boxed_txt<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Txt>> + Send + 'a>>;
    /// [`Resolver::a`], boxed.
    fn boxed_a<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Ipv4Addr>> + Send + 'a>>;
    /// [`Resolver::aaaa`], boxed.
    fn boxed_aaaa<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Ipv6Addr>> + Send + 'a>>;
    /// [`Resolver::mx`], boxed.
    fn boxed_mx<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Mx>> + Send + 'a>>;
    /// [`Resolver::ptr`], boxed.
    fn boxed_ptr(&self, ip: IpAddr)
    -> Pin<Box<dyn Future<Output = DnsResult<Domain>> + Send + '_>>;
}

impl<R: Resolver> DynResolver for R {
    fn boxed_txt<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Txt>> + Send + 'a>> {
        Box::pin(Resolver::txt(self, name))
    }

    fn boxed_a<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Ipv4Addr>> + Send + 'a>> {
        Box::pin(Resolver::a(self, name))
    }

    fn boxed_aaaa<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Ipv6Addr>> + Send + 'a>> {
        Box::pin(Resolver::aaaa(self, name))
    }

    fn boxed_mx<'a>(
        &'a self,
        name: &'a Domain,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Mx>> + Send + 'a>> {
        Box::pin(Resolver::mx(self, name))
    }

    fn boxed_ptr(
        &self,
        ip: IpAddr,
    ) -> Pin<Box<dyn Future<Output = DnsResult<Domain>> + Send + '_>> {
        Box::pin(Resolver::ptr(self, ip))
    }
}

/// The trait object is a [`Resolver`]; with the implementations for `&R`, `Box<R>` and `Arc<R>`
/// so are `&dyn DynResolver`, `Box<dyn DynResolver>` and `Arc<dyn DynResolver>`.
impl Resolver for dyn DynResolver + '_ {
    // `async fn` rather than returning the boxed future: the box lives as long as both `self`
    // and `name`, a lifetime an `impl Future` in this position cannot name.
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.boxed_txt(name).await
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.boxed_a(name).await
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.boxed_aaaa(name).await
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.boxed_mx(name).await
    }
    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.boxed_ptr(ip).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::dns::{DnsError, Lookup};

    /// Answers every type at `example.com` and counts the lookups.
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
    }

    impl Counting {
        fn answer<T>(&self, name: &Domain, record: T) -> DnsResult<T> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            if name.as_str() == "example.com" {
                Ok(Lookup::new(vec![record], 60))
            } else {
                Err(DnsError::NxDomain {
                    negative_ttl: Some(30),
                })
            }
        }
    }

    impl Resolver for Counting {
        async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
            self.answer(name, Txt::from("hello"))
        }
        async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
            self.answer(name, Ipv4Addr::new(192, 0, 2, 1))
        }
        async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
            self.answer(name, Ipv6Addr::LOCALHOST)
        }
        async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
            self.answer(name, Mx::null(0))
        }
        async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
            let name = Domain::from_valid_ascii("example.com".into());
            self.answer(&name, name.clone())
        }
    }

    async fn all<R: Resolver + ?Sized>(r: &R, name: &Domain) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            r.txt(name).await,
            r.a(name).await,
            r.aaaa(name).await,
            r.mx(name).await,
            r.ptr(IpAddr::V4(Ipv4Addr::LOCALHOST)).await,
        )
    }

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[test]
    fn every_form_of_the_trait_object_forwards_each_lookup() {
        let hit = Domain::from_valid_ascii("example.com".into());
        let miss = Domain::from_valid_ascii("example.net".into());
        for name in [&hit, &miss] {
            let expected = pollster::block_on(all(&Counting::default(), name));
            let boxed: Box<dyn DynResolver> = Box::new(Counting::default());
            assert_send_sync(&boxed);
            assert_eq!(pollster::block_on(all(&boxed, name)), expected);
            assert_eq!(pollster::block_on(all(&*boxed, name)), expected);
            let borrowed: &dyn DynResolver = &*boxed;
            assert_eq!(pollster::block_on(all(&borrowed, name)), expected);
            let shared: Arc<dyn DynResolver> = Arc::new(Counting::default());
            assert_eq!(pollster::block_on(all(&shared, name)), expected);
        }
        // One call of the inner resolver per lookup: nothing is asked twice.
        let inner = Arc::new(Counting::default());
        let shared: Arc<dyn DynResolver> = Arc::clone(&inner) as Arc<dyn DynResolver>;
        pollster::block_on(all(&shared, &hit));
        assert_eq!(inner.calls.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn the_futures_are_send() {
        fn assert_send<F: Future + Send>(f: F) -> F {
            f
        }
        let boxed: Box<dyn DynResolver> = Box::new(Counting::default());
        let name = Domain::from_valid_ascii("example.com".into());
        let answer = pollster::block_on(assert_send(boxed.txt(&name)));
        assert_eq!(
            answer.map(Lookup::into_records),
            Ok(vec![Txt::from("hello")])
        );
    }
}
