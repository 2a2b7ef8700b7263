//! The host's daily budgets against wiremock: LinkedIn sends no rate-limit headers, so the
//! client counts its own calls per member (connection) and per app and refuses the call over a
//! budget before LinkedIn sees it, as throttled until midnight UTC.

mod common;

use std::time::Duration;

use socialconnect_core::ErrorKind;
use socialconnect_core::http::{DailyBudget, HttpClient, RetryPolicy};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::posts::Post;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use common::env_with;

fn throttled_until_midnight(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Throttled { retry_after: Some(wait) } if wait <= Duration::from_secs(86_400))
}

#[tokio::test]
async fn posts_over_the_member_and_app_day_budgets_are_refused_before_sending() {
    let limits = socialconnect_linkedin::rate_limits([
        DailyBudget::new("posts.create").per_connection(2),
        DailyBudget::new("posts.").per_app(3),
    ]);
    let http = HttpClient::builder()
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .rate_limits(PlatformId::LINKEDIN, limits)
        .build()
        .unwrap();
    let env = env_with(http.clone()).await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-restli-id", "urn:li:share:1"))
        .expect(3)
        .mount(&env.server)
        .await;
    let post = Post::new(Urn::person("A1b2C3d4E5").unwrap(), "Hello");
    let first = env.session(Purpose::Publishing).await;
    let second = env.session(Purpose::Publishing).await;

    for _ in 0..2 {
        env.client.create_post(&first, &post).await.unwrap();
    }
    let member_spent = env.client.create_post(&first, &post).await.unwrap_err();
    assert!(
        throttled_until_midnight(member_spent.kind()),
        "{member_spent:?}"
    );
    assert!(member_spent.to_string().contains("throttled"));

    // Another member still has their own allowance, until the app's is spent.
    env.client.create_post(&second, &post).await.unwrap();
    let app_spent = env.client.create_post(&second, &post).await.unwrap_err();
    assert!(throttled_until_midnight(app_spent.kind()), "{app_spent:?}");

    let usage = http.daily_usage(&PlatformId::LINKEDIN);
    let app = usage.iter().find(|u| u.connection.is_none()).unwrap();
    assert_eq!((app.calls, app.budget), (3, 3));
    let members: Vec<u32> = usage
        .iter()
        .filter(|u| u.connection.is_some())
        .map(|u| u.calls)
        .collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&2) && members.contains(&1), "{usage:?}");
    // Deletes are counted against the app's `posts.` budget too: spent.
    let delete = env
        .client
        .delete_post(&second, &Urn::parse("urn:li:share:1").unwrap())
        .await
        .unwrap_err();
    assert!(throttled_until_midnight(delete.kind()));
}
