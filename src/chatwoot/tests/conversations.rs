//! Conversation reads and changes through the client.

use serde_json::json;

use super::Fixture;
use crate::{chatwoot::client::*, simulators::chatwoot::wire};

#[tokio::test]
async fn conversations_list_get_and_filter() {
    let f = Fixture::new().await;
    let cred = f.admin_cred();
    let second = f.sim.add_conversation(f.account, f.inbox, "Carlos", None);
    f.client
        .toggle_status(&cred, f.account, second, ConversationStatus::Resolved)
        .await
        .unwrap();

    let open = f
        .client
        .conversations(&cred, f.account, &ConversationFilter::default())
        .await
        .unwrap();
    assert_eq!(open.meta.all_count, 1);
    assert_eq!(open.payload[0].id, f.conversation);
    let filter = ConversationFilter {
        status: Some(StatusFilter::All),
        ..Default::default()
    };
    let all = f
        .client
        .conversations(&cred, f.account, &filter)
        .await
        .unwrap();
    assert_eq!(
        (
            all.meta.all_count,
            all.meta.unassigned_count,
            all.meta.mine_count
        ),
        (2, 2, 0)
    );
    let filter = ConversationFilter {
        status: Some(StatusFilter::Is(ConversationStatus::Resolved)),
        page: Some(1),
        inbox_id: Some(f.inbox),
    };
    let resolved = f
        .client
        .conversations(&cred, f.account, &filter)
        .await
        .unwrap();
    assert_eq!(
        resolved.payload.iter().map(|c| c.id).collect::<Vec<_>>(),
        [second]
    );

    let conv = f
        .client
        .conversation(&cred, f.account, f.conversation)
        .await
        .unwrap();
    assert_eq!((conv.account_id, conv.inbox_id), (Some(f.account), f.inbox));
    assert_eq!(
        conv.meta.sender.unwrap().phone_number.as_deref(),
        Some("+351912345678")
    );
    assert_eq!(conv.meta.channel.as_deref(), Some("Channel::Whatsapp"));
    assert_eq!(conv.unread_count, 1);
    assert_eq!(
        f.client.conversation(&cred, f.account, 4242).await,
        Err(ChatwootError::NotFound)
    );
}

#[tokio::test]
async fn conversation_changes_round_trip() {
    let f = Fixture::new().await;
    let (cred, acc, id) = (f.agent_cred(), f.account, f.conversation);

    let change = f
        .client
        .toggle_status(&cred, acc, id, ConversationStatus::Pending)
        .await
        .unwrap();
    assert_eq!((change.success, change.conversation_id), (true, id));
    assert_eq!(change.current_status, ConversationStatus::Pending);

    f.client
        .toggle_priority(&cred, acc, id, Some(Priority::Urgent))
        .await
        .unwrap();
    assert_eq!(
        f.sim.conversation(acc, id).unwrap().priority,
        Some(wire::Priority::Urgent)
    );
    f.client
        .toggle_priority(&cred, acc, id, None)
        .await
        .unwrap();
    assert_eq!(f.sim.conversation(acc, id).unwrap().priority, None);

    let assigned = f
        .client
        .assign(&cred, acc, id, Assignment::Agent(f.agent.id))
        .await
        .unwrap();
    assert!(
        matches!(assigned, Assigned::Agent(ref a) if a.id == f.agent.id && a.role == Role::Agent)
    );
    let assigned = f
        .client
        .assign(&cred, acc, id, Assignment::Team(f.team))
        .await
        .unwrap();
    assert!(matches!(assigned, Assigned::Team(ref t) if t.name == "support"));
    let conv = f.client.conversation(&cred, acc, id).await.unwrap();
    assert_eq!(conv.meta.assignee.map(|a| a.id), Some(f.agent.id));
    assert_eq!(conv.meta.team.map(|t| t.id), Some(f.team));
    // An id outside the account unassigns, as in Chatwoot.
    let outsider = Assignment::Agent(f.outsider.id);
    assert_eq!(
        f.client.assign(&cred, acc, id, outsider).await.unwrap(),
        Assigned::Nobody
    );
    assert_eq!(f.sim.conversation(acc, id).unwrap().assignee_id, None);

    let labels = vec!["vip".to_string(), "lead".to_string()];
    assert_eq!(
        f.client
            .set_conversation_labels(&cred, acc, id, &labels)
            .await
            .unwrap(),
        labels
    );
    assert_eq!(
        f.client.conversation_labels(&cred, acc, id).await.unwrap(),
        labels
    );

    let attributes = json!({ "order_id": "A-3317", "stage": 2 })
        .as_object()
        .unwrap()
        .clone();
    f.client
        .set_custom_attributes(&cred, acc, id, &attributes)
        .await
        .unwrap();
    let conv = f.client.conversation(&cred, acc, id).await.unwrap();
    assert_eq!(conv.custom_attributes, attributes);
    assert_eq!(conv.labels, labels);

    let message = f
        .client
        .create_message(&cred, acc, id, "Ships tomorrow.", false)
        .await
        .unwrap();
    assert_eq!(
        (message.message_type, message.private),
        (MessageType::Outgoing, false)
    );
    assert_eq!(message.content.as_deref(), Some("Ships tomorrow."));
    assert_eq!(message.conversation_id, Some(id));
    let note = f
        .client
        .create_message(&cred, acc, id, "internal", true)
        .await
        .unwrap();
    assert!(note.private);
    assert_eq!(f.sim.conversation(acc, id).unwrap().messages.len(), 3);
}

#[tokio::test]
async fn invalid_input_is_a_validation_error() {
    let f = Fixture::new().await;
    let err = f
        .client
        .create_message(&f.admin_cred(), f.account, f.conversation, "  ", false)
        .await;
    assert_eq!(
        err.unwrap_err(),
        ChatwootError::Validation("Content can't be blank".into())
    );
}
