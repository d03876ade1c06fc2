//! The administrative commands: tenants, API clients, and the first-run bootstrap.

use crm_domain::auth::{ApiClient, AuthService, IssuedClient, Tenant};
use serde_json::json;

use crate::config::{ClientCommand, SearchCommand, TenantCommand};

pub async fn tenant(auth: &AuthService, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create {
            name,
            slug,
            time_zone,
            json,
        } => {
            let t = auth
                .create_tenant(&name, slug.as_deref(), time_zone.as_deref())
                .await?;
            if json {
                println!("{}", tenant_json(&t));
            } else {
                println!("created tenant '{}' ({}) id {}", t.slug, t.name, t.id);
            }
        }
        TenantCommand::List { json } => {
            let tenants = auth.list_tenants().await?;
            if json {
                let list: Vec<_> = tenants.iter().map(tenant_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for t in tenants {
                    println!("{}\t{}\t{}\t{}", t.slug, t.id, t.time_zone, t.name);
                }
            }
        }
    }
    Ok(())
}

pub async fn client(auth: &AuthService, cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create { tenant, name, json } => {
            let tenant = auth.find_tenant(&tenant).await?;
            let issued = auth.create_client(&tenant, &name).await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "tenant": tenant.slug,
                        "client_id": issued.client.client_id,
                        "client_secret": issued.secret.0,
                        "name": issued.client.name,
                    })
                );
            } else {
                println!(
                    "created API client '{}' for tenant '{}'",
                    issued.client.name, tenant.slug
                );
                println!("  client_id:     {}", issued.client.client_id);
                println!(
                    "  client_secret: {}   (shown once: store it now)",
                    issued.secret.0
                );
            }
        }
        ClientCommand::List { tenant, json } => {
            let tenant = auth.find_tenant(&tenant).await?;
            let clients = auth.list_clients(&tenant).await?;
            if json {
                let list: Vec<_> = clients.iter().map(client_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for c in clients {
                    let state = if c.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!("{}\t{}\t{}\t{}", c.client_id, state, c.created_at, c.name);
                }
            }
        }
        ClientCommand::Revoke { client_id, json } => {
            auth.revoke_client(&client_id).await?;
            if json {
                println!("{}", json!({"client_id": client_id, "revoked": true}));
            } else {
                println!("revoked API client {client_id} and its tokens");
            }
        }
    }
    Ok(())
}

fn tenant_json(t: &Tenant) -> serde_json::Value {
    json!({"id": t.id.to_string(), "slug": t.slug, "name": t.name, "time_zone": t.time_zone})
}

fn client_json(c: &ApiClient) -> serde_json::Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "created_at": c.created_at.to_rfc3339(),
        "revoked": c.revoked_at.is_some(),
    })
}

/// On an empty database: creates the `default` tenant and one API client and tells how to call.
pub async fn first_run(auth: &AuthService, listen: &str) -> anyhow::Result<Option<IssuedClient>> {
    if !auth.list_tenants().await?.is_empty() {
        return Ok(None);
    }
    let tenant = auth.create_tenant("Default", Some("default"), None).await?;
    let issued = auth.create_client(&tenant, "default").await?;
    let id = &issued.client.client_id;
    let secret = &issued.secret.0;
    println!();
    println!("First run: created tenant 'default' and an API client.");
    println!("  client_id:     {id}");
    println!("  client_secret: {secret}   (shown once: store it now)");
    println!("Get a token:");
    println!(
        "  curl -s -X POST http://{listen}/api/v1/auth/get-token-for-develop -H 'Content-Type: application/json' -d '{{\"clientId\":\"{id}\",\"clientSecret\":\"{secret}\"}}'"
    );
    println!();
    Ok(Some(issued))
}

pub async fn search(app: &crate::App, cmd: SearchCommand) -> anyhow::Result<()> {
    match cmd {
        SearchCommand::Reindex { tenant, json } => {
            let tenant = app.state.auth.find_tenant(&tenant).await?;
            let counts = app.store.reindex_search(tenant.id).await?;
            if json {
                let map: serde_json::Map<String, serde_json::Value> = counts
                    .iter()
                    .map(|(kind, n)| ((*kind).to_owned(), json!(n)))
                    .collect();
                println!("{}", json!({"tenant": tenant.slug, "reindexed": map}));
            } else {
                for (kind, n) in counts {
                    println!("{kind}\t{n}");
                }
            }
        }
    }
    Ok(())
}
