//! The record as a Markdown document.

use std::fmt::Write as _;

use super::RecordOfProcessing;

/// Table cells cannot hold `|` or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn opt(text: Option<&str>) -> String {
    text.map_or_else(|| "—".to_owned(), cell)
}

pub(super) fn render(r: &RecordOfProcessing) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let w = &mut out;
    let _ = writeln!(w, "# Record of processing activities (GDPR Art. 30)\n");
    let _ = writeln!(
        w,
        "Generated {} from the deployment configuration.\n",
        r.generated_at.to_rfc3339()
    );

    if !r.flags.is_empty() {
        let _ = writeln!(w, "## Flags\n");
        for f in &r.flags {
            let _ = writeln!(w, "- **FLAGGED:** {}", cell(f));
        }
        let _ = writeln!(w);
    }

    let c = &r.controller;
    let _ = writeln!(w, "## Controller\n");
    let _ = writeln!(w, "| field | value |\n|---|---|");
    let _ = writeln!(w, "| name | {} |", cell(&c.name));
    let _ = writeln!(w, "| email | {} |", cell(&c.email));
    let _ = writeln!(w, "| contact | {} |", opt(c.contact.as_deref()));
    let _ = writeln!(w, "| address | {} |", opt(c.address.as_deref()));
    let _ = writeln!(w, "| data protection officer | {} |", opt(c.dpo.as_deref()));
    let _ = writeln!(w, "| privacy notice | {} |", cell(&c.policy_url));
    let _ = writeln!(
        w,
        "| supervisory authority | {} |\n",
        opt(c.authority_url.as_deref())
    );
    if let Some(n) = &r.notice {
        let _ = writeln!(
            w,
            "Privacy notice version {} ({}), effective {}.\n",
            cell(&n.version),
            cell(&n.hash),
            n.effective_at.to_rfc3339()
        );
    }

    let _ = writeln!(w, "## Purposes and legal bases\n");
    let _ = writeln!(
        w,
        "| purpose | basis | justification | consent gate | scopes per platform |\n|---|---|---|---|---|"
    );
    for p in &r.purposes {
        let scopes = if p.scopes.is_empty() {
            "—".to_owned()
        } else {
            p.scopes
                .iter()
                .map(|(platform, s)| format!("{platform}: {}", s.join(" ")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let basis = p
            .basis
            .clone()
            .unwrap_or_else(|| "**FLAGGED: none declared**".to_owned());
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            p.purpose,
            basis,
            opt(p.justification.as_deref()),
            cell(&p.gate),
            cell(&scopes)
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Categories of personal data\n");
    let _ = writeln!(
        w,
        "| category | contents | protection | retention |\n|---|---|---|---|"
    );
    for d in &r.data_categories {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            cell(&d.name),
            cell(&d.contents),
            cell(&d.protection),
            cell(&d.retention)
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Recipients\n");
    if r.recipients.is_empty() {
        let _ = writeln!(w, "No platform is enabled.\n");
    } else {
        let _ = writeln!(
            w,
            "| platform | app | client id | role |\n|---|---|---|---|"
        );
        for p in &r.recipients {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} |",
                p.platform,
                p.app,
                cell(&p.client_id),
                cell(&p.role)
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Sub-processors\n");
    if r.sub_processors.is_empty() {
        let _ = writeln!(
            w,
            "None listed: name the host's processors (hosting, database, email) in \
             `[[sub_processor]]` of the deployment file.\n"
        );
    } else {
        let _ = writeln!(
            w,
            "| name | role | location | safeguard |\n|---|---|---|---|"
        );
        for p in &r.sub_processors {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} |",
                cell(&p.name),
                cell(&p.role),
                cell(&p.location),
                opt(p.safeguard.as_deref())
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Storage location and transfers\n");
    let _ = writeln!(
        w,
        "- Region: {}\n- Outbound: {}\n",
        opt(r.transfers.region.as_deref()),
        cell(&r.transfers.outbound)
    );

    let t = &r.retention;
    let _ = writeln!(w, "## Retention\n");
    let _ = writeln!(w, "- Usage log: {} days", t.usage_log_days);
    let _ = writeln!(
        w,
        "- Connections needing reconnection or revoked: {} days",
        t.stale_connection_days
    );
    let _ = writeln!(
        w,
        "- Dead API keys: {}\n",
        t.dead_api_key_days
            .map_or_else(|| "kept".to_owned(), |d| format!("{d} days"))
    );

    let _ = writeln!(w, "## Security measures\n");
    let _ = writeln!(w, "- Key provider: {}", cell(&r.security.key_provider));
    let _ = writeln!(w, "- Encryption: {}\n", cell(&r.security.encryption));

    let a = &r.age_policy;
    let _ = writeln!(w, "## Children (Art. 8)\n");
    let _ = writeln!(w, "- Minimum age outside the EU/EEA: {}", a.default_minimum);
    for (code, age) in &a.overrides {
        let _ = writeln!(w, "- {}: {}", cell(code), age);
    }
    let _ = writeln!(w, "- {}", cell(&a.eea));
    out
}
