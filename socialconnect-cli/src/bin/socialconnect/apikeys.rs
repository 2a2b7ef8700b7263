//! `api-keys create|list|revoke|rotate`: the host's client API keys over the store. A new key
//! is printed once, at creation; nothing else ever prints a secret (the store has none).

use chrono::TimeDelta;
use serde_json::{Value, json};
use socialconnect_core::apikey::{ApiKeyRecord, IssuedApiKey};
use socialconnect_core::id::ApiKeyId;
use socialconnect_core::{Error, Result};

use crate::Outcome;
use crate::cli::ApiKeysCommand;
use crate::context::Context;
use crate::output;

fn key_id(text: &str) -> Result<ApiKeyId> {
    ApiKeyId::parse(text)
        .map_err(|_| Error::invalid_input(format!("`{text}` is not an API key id (32 hex digits)")))
}

pub(crate) async fn run(ctx: &Context, cmd: ApiKeysCommand) -> Result<Outcome> {
    let store = ctx.store().await?;
    let keys = ctx.deployment.api_keys(&store);
    let result = match cmd {
        ApiKeysCommand::Create(c) => {
            let ttl = c.ttl_days.map(|d| TimeDelta::days(i64::from(d)));
            let issued = keys.issue(c.scopes, ttl, &ctx.actor).await?;
            show_issued(ctx, &issued, None)
        }
        ApiKeysCommand::List => {
            let now = chrono::Utc::now();
            let records = keys.list().await?;
            if ctx.json {
                let list: Vec<Value> = records.iter().map(|r| record_json(r, now)).collect();
                output::json(&json!({ "api_keys": list }))
            } else if records.is_empty() {
                println!("no API keys");
                Ok(())
            } else {
                println!(
                    "{:<32}  {:<10}  {:<25}  scopes",
                    "key id", "state", "created"
                );
                for r in &records {
                    println!(
                        "{:<32}  {:<10}  {:<25}  {}",
                        r.key_id.to_string(),
                        state(r, now),
                        r.created_at.to_rfc3339(),
                        r.scopes.join(" ")
                    );
                }
                Ok(())
            }
        }
        ApiKeysCommand::Revoke { key_id: text } => {
            let id = key_id(&text)?;
            if !keys.revoke(&id, &ctx.actor).await? {
                return Err(Error::invalid_input(format!(
                    "no API key has the id `{text}`"
                )));
            }
            if ctx.json {
                output::json(&json!({ "key_id": text, "revoked": true }))
            } else {
                println!("API key {text} revoked");
                Ok(())
            }
        }
        ApiKeysCommand::Rotate {
            key_id: text,
            grace_hours,
        } => {
            let id = key_id(&text)?;
            if keys.get(&id).await?.is_none() {
                return Err(Error::invalid_input(format!(
                    "no API key has the id `{text}`"
                )));
            }
            let grace = TimeDelta::hours(i64::from(grace_hours));
            let issued = keys.rotate(&id, grace, &ctx.actor).await?;
            show_issued(ctx, &issued, Some(&text))
        }
    };
    store.close().await;
    result.map(|()| Outcome::Ok)
}

/// The one place a key's secret is printed.
fn show_issued(ctx: &Context, issued: &IssuedApiKey, replaces: Option<&str>) -> Result<()> {
    if ctx.json {
        output::json(&json!({
            "key_id": issued.key_id.to_string(),
            "key": issued.key.expose_secret(),
            "scopes": issued.scopes,
            "expires_at": issued.expires_at.map(|t| t.to_rfc3339()),
            "replaces": replaces,
        }))
    } else {
        if let Some(old) = replaces {
            println!("API key {old} replaced by {}", issued.key_id);
        }
        println!("key id:  {}", issued.key_id);
        println!("scopes:  {}", issued.scopes.join(" "));
        if let Some(t) = issued.expires_at {
            println!("expires: {}", t.to_rfc3339());
        }
        println!("key:     {}", issued.key.expose_secret());
        println!("This key is shown once and cannot be shown again: store it now.");
        Ok(())
    }
}

fn state(r: &ApiKeyRecord, now: chrono::DateTime<chrono::Utc>) -> &'static str {
    match r.rejection_at(now) {
        None if r.replaced_by.is_some() => "rotating",
        None => "active",
        Some(reason) => reason.as_str(),
    }
}

fn record_json(r: &ApiKeyRecord, now: chrono::DateTime<chrono::Utc>) -> Value {
    let t = |v: Option<chrono::DateTime<chrono::Utc>>| v.map(|t| t.to_rfc3339());
    json!({
        "key_id": r.key_id.to_string(),
        "state": state(r, now),
        "scopes": r.scopes,
        "created_at": r.created_at.to_rfc3339(),
        "expires_at": t(r.expires_at),
        "last_used_at": t(r.last_used_at),
        "revoked_at": t(r.revoked_at),
        "replaced_by": r.replaced_by.map(|id| id.to_string()),
        "grace_until": t(r.grace_until),
    })
}
