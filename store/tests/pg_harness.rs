//! The throwaway PostgreSQL cluster of `support/pg.rs` starts and answers queries (skipped
//! without PostgreSQL unless `MAILWARD_REQUIRE_POSTGRES` is set).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/pg.rs"]
mod pg;
#[path = "support/ports.rs"]
mod ports;

#[tokio::test]
async fn cluster_starts_and_answers() {
    let Some(cluster) = pg::PgCluster::start() else {
        return;
    };
    assert_ne!(cluster.port(), 0);
    let url = cluster.create_database("pg harness");
    assert!(
        url.starts_with(&format!(
            "postgres://postgres@127.0.0.1:{}/",
            cluster.port()
        )),
        "{url}"
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    let conn = tokio::spawn(connection);

    let one: i64 = client
        .query_one("SELECT 1::BIGINT", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
    let version: String = client
        .query_one("SHOW server_version", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        version.starts_with(|c: char| c.is_ascii_digit()),
        "{version}"
    );
    let db: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(url.ends_with(&format!("/{db}")), "{url} vs {db}");

    // A second database is distinct and empty.
    let url2 = cluster.create_database("pg harness");
    assert_ne!(url, url2);

    drop(client);
    conn.await.unwrap().unwrap();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
