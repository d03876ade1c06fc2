//! The administrative commands: tenants, API clients, and the first-run bootstrap.

use crm_domain::auth::{ApiClient, AuthService, IssuedClient, Tenant};
use serde_json::json;

use crate::config::{ClientCommand, SearchCommand, TenantCommand};

pub async fn tenant(app: &crate::App, cmd: TenantCommand) -> anyhow::Result<()> {
    let auth = &app.state.auth;
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
        TenantCommand::Set {
            tenant,
            settings,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let mut pairs = key_values(&settings)?;
            for (k, v) in pairs.iter_mut() {
                // `logo=@file.png`: the image itself, kept as a data URI.
                if let Some(path) = v.strip_prefix('@').filter(|_| k == "logo") {
                    let bytes = std::fs::read(path)
                        .map_err(|e| anyhow::anyhow!("cannot read the logo {path}: {e}"))?;
                    *v = crm_domain::printout::Logo::from_bytes(bytes)?.data_uri();
                }
            }
            let shown = app
                .state
                .crm
                .set_settings(&actor, crm_domain::printout::Documents, &pairs)
                .await?;
            print_settings("documents", &shown, json);
        }
        TenantCommand::Show { tenant, json } => {
            let t = auth.find_tenant(&tenant).await?;
            let actor = operator(app, &tenant).await?;
            let shown = app
                .state
                .crm
                .settings(&actor, crm_domain::printout::Documents)
                .await?;
            if json {
                println!("{}", json!({"tenant": tenant_json(&t), "documents": shown}));
            } else {
                println!("{}\t{}\t{}\t{}", t.slug, t.id, t.time_zone, t.name);
                print_settings("documents", &shown, false);
            }
        }
    }
    Ok(())
}

/// `key=value` arguments as pairs.
fn key_values(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .ok_or_else(|| anyhow::anyhow!("'{kv}' is not key=value"))
        })
        .collect()
}

/// Settings under a heading (a long value, such as a logo, shortened), or as JSON.
fn print_settings(name: &str, settings: &std::collections::BTreeMap<String, String>, json: bool) {
    if json {
        println!("{}", json!({"scope": name, "settings": settings}));
        return;
    }
    println!("{name}");
    for (k, v) in settings {
        if v.len() > 80 {
            let head: String = v.chars().take(40).collect();
            println!("  {k} = {head}… ({} characters)", v.len());
        } else {
            println!("  {k} = {v}");
        }
    }
}

/// `crm user create`.
pub async fn user(app: &crate::App, cmd: crate::config::UserCommand) -> anyhow::Result<()> {
    let crate::config::UserCommand::Create {
        tenant,
        username,
        role,
        name,
        password,
        json,
    } = cmd;
    let password = match password {
        Some(p) => p,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let role = crm_domain::console::Role::parse(&role)?;
    let tenant = app.state.auth.find_tenant(&tenant).await?;
    let id = create_user(app, &tenant, &username, role, name.as_deref(), &password).await?;
    if json {
        println!(
            "{}",
            json!({"tenant": tenant.slug, "username": username.trim(), "role": role.as_str(), "user_id": id.0})
        );
    } else {
        println!(
            "staff user '{}' of tenant '{}' may sign in at /app/login as {}",
            username.trim(),
            tenant.slug,
            role.as_str()
        );
    }
    Ok(())
}

/// Makes `username` a staff user who may sign in to the console with `role` and `password`:
/// the staff directory's user of that name, created (allowed into the CRM) when there is none.
pub async fn create_user(
    app: &crate::App,
    tenant: &crm_domain::auth::Tenant,
    username: &str,
    role: crm_domain::console::Role,
    name: Option<&str>,
    password: &str,
) -> anyhow::Result<crm_domain::ids::StaffId> {
    let actor = tenant.actor(uuid::Uuid::nil(), "crm user create");
    let crm = &app.state.crm;
    let username = username.trim();
    let existing = crm
        .users(&actor)
        .await?
        .into_iter()
        .find(|u| u.username == username);
    let id = match existing {
        Some(u) => u.id,
        None => {
            // Vietnamese order: the family name first, the given name last.
            let words: Vec<&str> = name.unwrap_or_default().split_whitespace().collect();
            let (lastname, firstname) = match words.split_last() {
                Some((given, family)) if !family.is_empty() => {
                    (Some(family.join(" ")), Some((*given).to_owned()))
                }
                Some((given, _)) => (None, Some((*given).to_owned())),
                None => (None, None),
            };
            crm.save_user(
                &actor,
                crm_domain::inventory::StaffUser {
                    username: username.to_owned(),
                    firstname,
                    lastname,
                    can_use_crm: true,
                    is_validated: true,
                    ..Default::default()
                },
            )
            .await?
        }
    };
    app.console
        .auth
        .set_login(tenant, id, role, password)
        .await?;
    Ok(id)
}

pub async fn client(auth: &AuthService, cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create {
            tenant,
            name,
            scope,
            json,
        } => {
            let scope = crm_domain::scope::Scope::parse(&scope)?;
            let tenant = auth.find_tenant(&tenant).await?;
            let issued = auth.create_client(&tenant, &name, scope).await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "tenant": tenant.slug,
                        "client_id": issued.client.client_id,
                        "client_secret": issued.secret.0,
                        "name": issued.client.name,
                        "scope": issued.client.scope.to_string(),
                    })
                );
            } else {
                println!(
                    "created API client '{}' for tenant '{}'",
                    issued.client.name, tenant.slug
                );
                println!("  client_id:     {}", issued.client.client_id);
                println!("  scope:         {}", issued.client.scope);
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
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        c.client_id, state, c.scope, c.created_at, c.name
                    );
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
        "scope": c.scope.to_string(),
    })
}

/// On an empty database: creates the `default` tenant and one API client and tells how to call.
/// On an empty database: the tenant `default` and its first API client. The secret is shown
/// once: on the terminal when standard output is one; otherwise (a service's log) it is written
/// to a file in `data_dir` readable by the server's user only, and only the file is named.
pub async fn first_run(
    auth: &AuthService,
    listen: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<Option<IssuedClient>> {
    use std::io::{IsTerminal, Write};
    if !auth.list_tenants().await?.is_empty() {
        return Ok(None);
    }
    let tenant = auth.create_tenant("Default", Some("default"), None).await?;
    let issued = auth
        .create_client(&tenant, "default", crm_domain::scope::Scope::ALL)
        .await?;
    let id = &issued.client.client_id;
    let secret = &issued.secret.0;
    let block = format!(
        "First run: created tenant 'default' and an API client.\n  \
         client_id:     {id}\n  \
         client_secret: {secret}   (shown once: store it now)\n\
         Get a token:\n  \
         curl -s -X POST http://{listen}/api/v1/auth/get-token-for-develop -H 'Content-Type: application/json' -d '{{\"clientId\":\"{id}\",\"clientSecret\":\"{secret}\"}}'\n"
    );
    if std::io::stdout().is_terminal() {
        println!();
        println!("{block}");
        return Ok(Some(issued));
    }
    let path = data_dir.join(format!("first-run-{id}.txt"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::fs::create_dir_all(data_dir)?;
    let mut file = options
        .open(&path)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    file.write_all(block.as_bytes())?;
    println!(
        "First run: created tenant 'default' and an API client; its id and secret are in {} \
         (readable by this user only; delete it once stored).",
        path.display()
    );
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

/// The operator at the command line, acting in `tenant`.
pub(crate) async fn operator(app: &crate::App, tenant: &str) -> anyhow::Result<crm_domain::Actor> {
    let t = app.state.auth.find_tenant(tenant).await?;
    Ok(t.actor(uuid::Uuid::nil(), "cli"))
}

pub fn job_json(j: &crm_domain::jobs::Job) -> serde_json::Value {
    json!({
        "id": j.id, "tenant_id": j.tenant_id.0, "kind": j.kind, "state": j.state.as_str(),
        "attempts": j.attempts, "max_attempts": j.max_attempts,
        "run_at": j.run_at.to_rfc3339(), "locked_by": j.locked_by,
        "locked_until": j.locked_until.map(|t| t.to_rfc3339()),
        "last_error": j.last_error, "key": j.key,
        "payload": serde_json::from_str::<serde_json::Value>(&j.payload).unwrap_or(serde_json::Value::Null),
        "created_at": j.created_at.to_rfc3339(), "updated_at": j.updated_at.to_rfc3339(),
    })
}

pub fn stats_json(s: &crm_domain::jobs::KindStats) -> serde_json::Value {
    json!({
        "kind": s.kind, "due": s.due, "scheduled": s.scheduled, "running": s.running,
        "done": s.done, "dead": s.dead, "cancelled": s.cancelled, "failed": s.failed,
    })
}

pub async fn jobs(app: &crate::App, cmd: crate::config::JobsCommand) -> anyhow::Result<()> {
    use crate::config::JobsCommand as C;
    let crm = &app.state.crm;
    match cmd {
        C::List {
            tenant,
            kind,
            state,
            limit,
            json,
        } => {
            let tenant_id = match tenant {
                Some(t) => Some(app.state.auth.find_tenant(&t).await?.id),
                None => None,
            };
            let state = match state {
                Some(s) => Some(
                    crm_domain::jobs::JobState::parse(&s)
                        .ok_or_else(|| anyhow::anyhow!("unknown state '{s}'"))?,
                ),
                None => None,
            };
            let list = crm
                .jobs(&crm_domain::jobs::JobFilter {
                    tenant_id,
                    kind,
                    state,
                    limit,
                })
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::Value::Array(list.iter().map(job_json).collect())
                );
            } else {
                for j in list {
                    println!(
                        "{}\t{}\t{}\t{}/{}\t{}\t{}",
                        j.id,
                        j.kind,
                        j.state.as_str(),
                        j.attempts,
                        j.max_attempts,
                        j.run_at.to_rfc3339(),
                        j.last_error.unwrap_or_default()
                    );
                }
            }
        }
        C::Show { id, json } => {
            let j = crm.job(id).await?;
            if json {
                println!("{}", job_json(&j));
            } else {
                println!("{:#}", job_json(&j));
            }
        }
        C::Retry { id, json } => {
            crm.retry_job(id).await?;
            print_done(json, id, "queued", "queued job {id} to run now");
        }
        C::Cancel { id, json } => {
            crm.cancel_job(id).await?;
            print_done(json, id, "cancelled", "cancelled job {id}");
        }
        C::Schedule {
            tenant,
            name,
            kind,
            cron,
            payload,
            json,
        } => {
            serde_json::from_str::<serde_json::Value>(&payload)
                .map_err(|e| anyhow::anyhow!("--payload is not JSON: {e}"))?;
            let actor = operator(app, &tenant).await?;
            let s = crm.schedule(&actor, &name, &kind, payload, &cron).await?;
            if json {
                println!("{}", schedule_json(&s));
            } else {
                println!(
                    "scheduled '{}' ({}) at '{}' in {}; next {}",
                    s.name,
                    s.kind,
                    s.cron,
                    s.time_zone,
                    s.next_run_at.to_rfc3339()
                );
            }
        }
        C::Schedules { tenant, json } => {
            let tenant_id = match tenant {
                Some(t) => Some(app.state.auth.find_tenant(&t).await?.id),
                None => None,
            };
            let list = crm.schedules(tenant_id).await?;
            if json {
                println!(
                    "{}",
                    serde_json::Value::Array(list.iter().map(schedule_json).collect())
                );
            } else {
                for s in list {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        s.name,
                        s.kind,
                        s.cron,
                        s.time_zone,
                        s.next_run_at.to_rfc3339()
                    );
                }
            }
        }
        C::Unschedule { tenant, name, json } => {
            let actor = operator(app, &tenant).await?;
            crm.unschedule(&actor, &name).await?;
            if json {
                println!("{}", json!({"name": name, "deleted": true}));
            } else {
                println!("removed schedule '{name}'");
            }
        }
        C::Stats { json } => {
            let stats = crm.job_stats().await?;
            if json {
                println!(
                    "{}",
                    serde_json::Value::Array(stats.iter().map(stats_json).collect())
                );
            } else {
                println!("kind\tdue\tscheduled\trunning\tfailed\tdead\tdone\tcancelled");
                for s in stats {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        s.kind,
                        s.due,
                        s.scheduled,
                        s.running,
                        s.failed,
                        s.dead,
                        s.done,
                        s.cancelled
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn schedule_json(s: &crm_domain::jobs::Schedule) -> serde_json::Value {
    json!({
        "id": s.id, "tenant_id": s.tenant_id.0, "name": s.name, "kind": s.kind, "cron": s.cron,
        "time_zone": s.time_zone, "next_run_at": s.next_run_at.to_rfc3339(),
        "payload": serde_json::from_str::<serde_json::Value>(&s.payload).unwrap_or(serde_json::Value::Null),
    })
}

fn print_done(json: bool, id: uuid::Uuid, state: &str, text: &str) {
    if json {
        println!("{}", json!({"id": id, "state": state}));
    } else {
        println!("{}", text.replace("{id}", &id.to_string()));
    }
}

pub async fn webhook(app: &crate::App, cmd: crate::config::WebhookCommand) -> anyhow::Result<()> {
    use crate::config::WebhookCommand as C;
    let crm = &app.state.crm;
    let show = |e: &crm_domain::webhooks::Endpoint, secret: bool, json: bool| {
        if json {
            println!("{}", crm_dialects::own::endpoint_json(e, secret));
        } else {
            let state = if e.disabled { "disabled" } else { "active" };
            println!("{}\t{}\t{}\t{}", e.id, state, e.url, e.events.join(","));
            if secret {
                println!("  secret: {}   (shown once: store it now)", e.secret);
            }
        }
    };
    match cmd {
        C::Add {
            tenant,
            url,
            events,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let e = crm.add_webhook(&actor, &url, events).await?;
            show(&e, true, json);
        }
        C::List { tenant, json } => {
            let actor = operator(app, &tenant).await?;
            let list = crm.webhooks(&actor).await?;
            if json {
                println!(
                    "{}",
                    serde_json::Value::Array(
                        list.iter()
                            .map(|e| crm_dialects::own::endpoint_json(e, false))
                            .collect()
                    )
                );
            } else {
                for e in &list {
                    show(e, false, false);
                }
            }
        }
        C::Disable { tenant, id, json } => {
            let actor = operator(app, &tenant).await?;
            let e = crm.set_webhook_disabled(&actor, id, true).await?;
            show(&e, false, json);
        }
        C::Enable { tenant, id, json } => {
            let actor = operator(app, &tenant).await?;
            let e = crm.set_webhook_disabled(&actor, id, false).await?;
            show(&e, false, json);
        }
        C::Delete { tenant, id, json } => {
            let actor = operator(app, &tenant).await?;
            crm.delete_webhook(&actor, id).await?;
            print_done(json, id, "deleted", "deleted endpoint {id}");
        }
        C::Rotate { tenant, id, json } => {
            let actor = operator(app, &tenant).await?;
            let e = crm.rotate_webhook_secret(&actor, id).await?;
            show(&e, true, json);
        }
        C::Deliveries {
            tenant,
            id,
            limit,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let list = crm.webhook_deliveries(&actor, id, limit).await?;
            if json {
                println!(
                    "{}",
                    serde_json::Value::Array(
                        list.iter().map(crm_dialects::own::delivery_json).collect()
                    )
                );
            } else {
                for d in list {
                    println!(
                        "{}\t{}\t{}\t#{}\t{}\t{} ms\t{}",
                        d.id,
                        d.at.to_rfc3339(),
                        d.event,
                        d.attempt,
                        d.status.map_or("-".to_owned(), |s| s.to_string()),
                        d.latency_ms,
                        d.error.unwrap_or_default()
                    );
                }
            }
        }
        C::Redeliver {
            tenant,
            delivery,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let job = crm.redeliver(&actor, delivery).await?;
            if json {
                println!("{}", json!({"job_id": job}));
            } else {
                println!("queued redelivery as job {job}");
            }
        }
    }
    Ok(())
}

pub async fn channel(app: &crate::App, cmd: crate::config::ChannelCommand) -> anyhow::Result<()> {
    use crate::config::ChannelCommand as C;
    use crm_domain::messaging::Channel;
    let crm = &app.state.crm;
    let print =
        |channel: Channel, settings: &std::collections::BTreeMap<String, String>, json: bool| {
            if json {
                println!(
                    "{}",
                    json!({"channel": channel.as_str(), "settings": settings})
                );
            } else {
                print_settings(channel.as_str(), settings, false);
            }
        };
    match cmd {
        C::Set {
            tenant,
            channel,
            settings,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let channel = Channel::parse(&channel)?;
            let pairs = key_values(&settings)?;
            let shown = crm.set_settings(&actor, channel, &pairs).await?;
            print(channel, &shown, json);
        }
        C::Show {
            tenant,
            channel,
            json,
        } => {
            let actor = operator(app, &tenant).await?;
            let channels = match channel {
                Some(c) => vec![Channel::parse(&c)?],
                None => Channel::ALL.to_vec(),
            };
            for c in channels {
                let shown = crm.settings(&actor, c).await?;
                print(c, &shown, json);
            }
        }
    }
    Ok(())
}

/// `crm audit`: a tenant's audit trail, newest first.
pub async fn audit(app: &crate::App, args: crate::config::AuditArgs) -> anyhow::Result<()> {
    use crm_domain::audit::AuditQuery;
    let tenant = app.state.auth.find_tenant(&args.tenant).await?;
    let clients = app.state.auth.list_clients(&tenant).await?;
    let client = match &args.client {
        Some(c) => Some(
            clients
                .iter()
                .find(|k| &k.client_id == c)
                .map(|k| k.id.0)
                .ok_or_else(|| anyhow::anyhow!("no client {c} in tenant {}", tenant.slug))?,
        ),
        None => None,
    };
    let time = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(|t| crm_domain::audit::parse_instant(field, t))
            .transpose()
    };
    let query = AuditQuery {
        record: args.record,
        client,
        object: args.object.clone(),
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        before: None,
        limit: args.limit.max(1),
    };
    let entries = app.state.crm.audit_trail_of(tenant.id, query).await?;
    let mut listed = Vec::with_capacity(entries.len());
    for e in &entries {
        let client = e
            .client_id
            .and_then(|id| clients.iter().find(|k| k.id.0 == id))
            .map(|k| k.client_id.clone());
        if args.json {
            let mut v = serde_json::to_value(e)?;
            v["client"] = json!(client);
            listed.push(v);
        } else {
            println!(
                "{}  {:<22} {:<36}  by {} via {}{}",
                e.at.format("%Y-%m-%d %H:%M:%S"),
                format!("{}.{}", e.object, e.action),
                e.record_id.map(|r| r.to_string()).unwrap_or_default(),
                e.client_name.as_deref().unwrap_or("-"),
                e.route.as_deref().unwrap_or("-"),
                e.changes
                    .as_ref()
                    .map(|c| format!("  {c}"))
                    .unwrap_or_default(),
            );
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Array(listed));
    }
    Ok(())
}

/// `crm record restore|erase`.
pub async fn record(app: &crate::App, cmd: crate::config::RecordCommand) -> anyhow::Result<()> {
    use crate::config::RecordCommand as R;
    match cmd {
        R::Restore { tenant, kind, id } => {
            let actor = operator(app, &tenant).await?;
            app.state.crm.restore_record(&actor, &kind, id).await?;
            println!("restored {kind} {id}");
        }
        R::Erase { tenant, kind, id } => {
            let actor = operator(app, &tenant).await?;
            app.state.crm.erase_record(&actor, &kind, id).await?;
            println!("erased {kind} {id}");
        }
    }
    Ok(())
}
