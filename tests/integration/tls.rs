//! TLS to PostgreSQL (issue 24 item 4): a private cluster with a certificate for `localhost`
//! from a test CA; `verify-full`, `verify-ca` and `require` connect as libpq's modes promise,
//! `verify-full` refuses a wrong host name and a certificate from another CA, and the pool
//! runs its queries over TLS.

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use helsedataservice::db::{
    self,
    cluster::{Cluster, Durability},
};
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a server certificate for `localhost` signed by it (and a second, unrelated CA).
fn certificates(dir: &Path) {
    let ca = |name: &str| {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=Test CA {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    };
    ca("ca");
    ca("other-ca");
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
}

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

async fn over_tls(url: &str) -> Result<bool, String> {
    let mut conn = db::tls::connect(url).await.map_err(|e| e.to_string())?;
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.ssl)
}

#[rocket::async_test]
async fn the_database_connection_is_encrypted_and_verified_as_the_url_asks() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::ensure(&dir.path().join("pg"), Durability::Fast).expect("a private cluster");
    // The server's certificate and key in its own folder, readable by the server only.
    let home = cluster.server_home();
    certificates(&home);
    // Owned by whoever runs the server (the `postgres` account when the tests run as root).
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&home).unwrap());
    for f in ["server.pem", "server.key"] {
        std::os::unix::fs::chown(home.join(f), Some(owner), None).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(home.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    for f in ["ca.pem", "other-ca.pem"] {
        std::fs::set_permissions(home.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let plain = cluster.url("postgres");
    {
        let mut conn = db::tls::connect(&plain).await.expect("plain TCP as before");
        for sql in [
            format!("ALTER SYSTEM SET ssl_cert_file = '{}'", home.join("server.pem").display()),
            format!("ALTER SYSTEM SET ssl_key_file = '{}'", home.join("server.key").display()),
            "ALTER SYSTEM SET ssl = on".to_string(),
            "SELECT pg_reload_conf()".to_string(),
        ] {
            diesel::sql_query(sql).execute(&mut conn).await.unwrap();
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ca = home.join("ca.pem").display().to_string();
    let other = home.join("other-ca.pem").display().to_string();
    let localhost = plain.replace("@127.0.0.1:", "@localhost:");

    let result = async {
        assert_eq!(
            over_tls(&format!("{localhost}?sslmode=verify-full&sslrootcert={ca}")).await,
            Ok(true),
            "verify-full, the right name"
        );
        let wrong_name = over_tls(&format!("{plain}?sslmode=verify-full&sslrootcert={ca}")).await;
        assert!(wrong_name.is_err(), "verify-full refuses a certificate for another name: {wrong_name:?}");
        let wrong_ca = over_tls(&format!("{localhost}?sslmode=verify-full&sslrootcert={other}")).await;
        assert!(wrong_ca.is_err(), "verify-full refuses another CA's certificate: {wrong_ca:?}");
        assert_eq!(
            over_tls(&format!("{plain}?sslmode=verify-ca&sslrootcert={ca}")).await,
            Ok(true),
            "verify-ca checks the chain only"
        );
        assert!(
            over_tls(&format!("{plain}?sslmode=verify-ca&sslrootcert={other}")).await.is_err(),
            "verify-ca: another CA"
        );
        assert_eq!(over_tls(&format!("{plain}?sslmode=require")).await, Ok(true), "require: encrypted");
        assert_eq!(over_tls(&plain).await, Ok(false), "no sslmode: plain, as before");
        // The service's pool connects the same way.
        let pool = db::pool(&format!("{localhost}?sslmode=verify-full&sslrootcert={ca}"), 2).unwrap();
        let mut conn = pool.get().await.expect("a pooled TLS connection");
        let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .get_result(&mut conn)
            .await
            .unwrap();
        assert!(row.ssl, "the pool's connection is encrypted");
    }
    .await;
    let _ = cluster.stop();
    // As root the server's files live outside the temporary folder: remove them too.
    if cluster.server_home() != dir.path().join("pg") {
        let _ = std::fs::remove_dir_all(cluster.server_home());
    }
    result
}
