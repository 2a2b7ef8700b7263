//! Organization statistics against wiremock: the Rest.li query syntax on the wire (encoded
//! URNs, `timeIntervals`, `List(...)`), lifetime and daily share statistics, follower facets
//! read from `organicFollowerCount`, gains per bucket, and the total from `networkSizes`.

mod common;

use chrono::{TimeZone, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::id::Purpose;
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::statistics::{Granularity, TimeWindow};
use socialconnect_testkit::{JsonMock, fixture};

use common::env;

const ORG_RESTLI: &str = "urn%3Ali%3Aorganization%3A2414183";

fn org() -> Urn {
    Urn::organization("2414183").unwrap()
}

fn window() -> TimeWindow {
    TimeWindow {
        start: Utc.timestamp_millis_opt(1_700_006_400_000).unwrap(),
        end: Utc.timestamp_millis_opt(1_700_179_200_000).unwrap(),
        granularity: Granularity::Day,
    }
}

/// Matches the raw query string exactly as sent (Rest.li syntax is not form encoding).
fn raw_query(expected: String) -> impl Fn(&wiremock::Request) -> bool + Send + Sync + 'static {
    move |r: &wiremock::Request| r.url.query() == Some(expected.as_str())
}

#[tokio::test]
async fn share_statistics_lifetime_daily_and_per_post() {
    let env = env().await;
    let session = env.session(Purpose::Analytics).await;
    JsonMock::new(
        "GET",
        "/rest/organizationalEntityShareStatistics",
        fixture!("statistics/shares_lifetime"),
    )
    .and(raw_query(format!(
        "q=organizationalEntity&organizationalEntity={ORG_RESTLI}"
    )))
    .expect(1)
    .mount(&env.server)
    .await;
    JsonMock::new("GET", "/rest/organizationalEntityShareStatistics", fixture!("statistics/shares_daily"))
        .and(raw_query(format!(
            "q=organizationalEntity&organizationalEntity={ORG_RESTLI}\
             &timeIntervals=(timeRange:(start:1700006400000,end:1700179200000),timeGranularityType:DAY)"
        )))
        .expect(1)
        .mount(&env.server)
        .await;
    JsonMock::new(
        "GET",
        "/rest/organizationalEntityShareStatistics",
        fixture!("statistics/shares_lifetime"),
    )
    .and(raw_query(format!(
        "q=organizationalEntity&organizationalEntity={ORG_RESTLI}\
             &shares=List(urn%3Ali%3Ashare%3A1)&ugcPosts=List(urn%3Ali%3AugcPost%3A2)"
    )))
    .expect(1)
    .mount(&env.server)
    .await;

    let lifetime = env
        .client
        .share_statistics(&session, &org(), None, &[])
        .await
        .unwrap();
    assert_eq!(lifetime.len(), 1);
    let s = &lifetime[0];
    assert_eq!(
        (
            s.impressions,
            s.unique_impressions,
            s.clicks,
            s.likes,
            s.comments,
            s.shares
        ),
        (3100, 1200, 87, 52, 9, 14)
    );
    assert!((s.engagement - 0.0531).abs() < 1e-9);
    assert_eq!(s.time_range, None);

    let daily = env
        .client
        .share_statistics(&session, &org(), Some(window()), &[])
        .await
        .unwrap();
    assert_eq!(daily.len(), 2);
    assert_eq!(daily[0].clicks, 3, "a count sent as a string");
    assert_eq!(daily[1].clicks, 0, "an absent count is zero");
    assert_eq!(
        daily[1].time_range.unwrap().0.timestamp_millis(),
        1_700_092_800_000
    );

    let posts = [
        Urn::parse("urn:li:share:1").unwrap(),
        Urn::parse("urn:li:ugcPost:2").unwrap(),
    ];
    env.client
        .share_statistics(&session, &org(), None, &posts)
        .await
        .unwrap();

    let too_many: Vec<Urn> = (0..21)
        .map(|i| Urn::parse(&format!("urn:li:share:{i}")).unwrap())
        .collect();
    let err = env
        .client
        .share_statistics(&session, &org(), None, &too_many)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn follower_facets_gains_and_total() {
    let env = env().await;
    let session = env.session(Purpose::Analytics).await;
    JsonMock::new(
        "GET",
        "/rest/organizationalEntityFollowerStatistics",
        fixture!("statistics/followers_lifetime"),
    )
    .and(raw_query(format!(
        "q=organizationalEntity&organizationalEntity={ORG_RESTLI}"
    )))
    .mount(&env.server)
    .await;
    JsonMock::new(
        "GET",
        "/rest/organizationalEntityFollowerStatistics",
        fixture!("statistics/followers_gains"),
    )
    .and(|r: &wiremock::Request| {
        r.url
            .query()
            .is_some_and(|q| q.contains("&timeIntervals=(timeRange:"))
    })
    .priority(1)
    .mount(&env.server)
    .await;
    JsonMock::new(
        "GET",
        format!("/rest/networkSizes/{ORG_RESTLI}"),
        fixture!("statistics/network_size"),
    )
    .mount(&env.server)
    .await;

    let mut facets = env.client.follower_facets(&session, &org()).await.unwrap();
    facets.sort_by(|a, b| a.facet.cmp(&b.facet));
    assert_eq!(facets.len(), 3);
    assert_eq!(facets[0].facet, "followerCountsByAssociationType");
    assert_eq!(
        (facets[0].key.as_str(), facets[0].organic),
        ("EMPLOYEE", 120)
    );
    let seniority = facets
        .iter()
        .find(|f| f.facet == "followerCountsBySeniority")
        .unwrap();
    assert_eq!(
        (seniority.key.as_str(), seniority.organic, seniority.paid),
        ("urn:li:seniority:3", 800, 12)
    );

    let gains = env
        .client
        .follower_gains(&session, &org(), window())
        .await
        .unwrap();
    assert_eq!(gains.iter().map(|g| g.organic).sum::<u64>(), 12);
    assert_eq!(gains[0].paid, 1);

    assert_eq!(
        env.client.follower_total(&session, &org()).await.unwrap(),
        18_342
    );
}

#[tokio::test]
async fn statistics_need_an_analytics_session() {
    let env = env().await;
    let session = env.session(Purpose::Publishing).await;
    let err = env
        .client
        .follower_total(&session, &org())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConsentRequired);
    assert!(env.server.received_requests().await.unwrap().is_empty());
}
