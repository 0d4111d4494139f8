//! `ListTasks` as the edge calls it: the reply decoded with every text field
//! as a [`Bytes`] slice of the received message instead of a `String` of
//! its own, so a page of tasks costs no allocation, copy or free per field;
//! the JSON answer is written from these slices
//! ([`crate::routes::tasks`]). The wire format is `todo.tasks.v1`'s,
//! unchanged: a protobuf `string` and `bytes` field are encoded alike, so
//! [`ListReply`] reads exactly what `ListTasksResponse` does; the UTF-8
//! check prost makes on a `string` is made once the reply is in, with the
//! same answer (INTERNAL) when it fails.

use bytes::Bytes;
use proto::tasks as pb;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

/// `todo.tasks.v1.ListTasksResponse`, read with [`Task`]s.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListReply {
    #[prost(message, repeated, tag = "1")]
    pub tasks: Vec<Task>,
}

/// `todo.tasks.v1.Task`, its `string` fields as the received bytes
/// (UTF-8: checked by [`list_tasks`]).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Task {
    #[prost(int64, tag = "1")]
    pub id: i64,
    #[prost(bytes = "bytes", tag = "2")]
    pub user_id: Bytes,
    #[prost(bytes = "bytes", tag = "3")]
    pub title: Bytes,
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub description: Option<Bytes>,
    #[prost(bool, tag = "5")]
    pub completed: bool,
    #[prost(bytes = "bytes", tag = "6")]
    pub created_at: Bytes,
    #[prost(bytes = "bytes", tag = "7")]
    pub updated_at: Bytes,
}

impl Task {
    /// Whether every text field is UTF-8, as a `string` must be (ASCII,
    /// the common case, checked a word at a time first).
    fn is_utf8(&self) -> bool {
        [
            &self.user_id,
            &self.title,
            &self.created_at,
            &self.updated_at,
        ]
        .into_iter()
        .chain(self.description.as_ref())
        .all(|text| text.is_ascii() || std::str::from_utf8(text).is_ok())
    }
}

/// The path and method name of `Tasks/ListTasks`, as the generated client
/// sends them.
const PATH: &str = "/todo.tasks.v1.Tasks/ListTasks";

/// One `ListTasks` call, as the generated `TasksClient::list_tasks` makes
/// it, with the reply read as a [`ListReply`]; INTERNAL, as prost's decoder
/// answers, when a text field is not UTF-8.
pub async fn list_tasks(
    mut grpc: Grpc<Channel>,
    mut request: tonic::Request<pb::ListTasksRequest>,
) -> Result<tonic::Response<ListReply>, tonic::Status> {
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(format!("Service was not ready: {e}")))?;
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new("todo.tasks.v1.Tasks", "ListTasks"));
    let codec = ProstCodec::<pb::ListTasksRequest, ListReply>::default();
    let reply = grpc
        .unary(request, PathAndQuery::from_static(PATH), codec)
        .await?;
    if !reply.get_ref().tasks.iter().all(Task::is_utf8) {
        return Err(tonic::Status::internal(
            "failed to decode Protobuf message: Task: invalid string value: data is not UTF-8 encoded",
        ));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn task(id: i64, description: Option<&str>) -> pb::Task {
        pb::Task {
            id,
            user_id: "alice".to_owned(),
            title: format!("title {id} \"é\""),
            description: description.map(str::to_owned),
            completed: id % 2 == 0,
            created_at: "2026-11-26T20:00:00.123456Z".to_owned(),
            updated_at: "2026-11-26T20:00:01Z".to_owned(),
        }
    }

    #[test]
    fn reads_what_the_generated_type_writes() {
        let sent = pb::ListTasksResponse {
            tasks: vec![task(1, Some("")), task(2, None), task(-3, Some("d"))],
        };
        let read = ListReply::decode(Bytes::from(sent.encode_to_vec())).expect("decoded");
        assert_eq!(read.tasks.len(), sent.tasks.len());
        for (read, sent) in read.tasks.iter().zip(&sent.tasks) {
            assert_eq!(read.id, sent.id);
            assert_eq!(read.user_id, sent.user_id.as_bytes());
            assert_eq!(read.title, sent.title.as_bytes());
            assert_eq!(
                read.description.as_deref(),
                sent.description.as_deref().map(str::as_bytes)
            );
            assert_eq!(read.completed, sent.completed);
            assert_eq!(read.created_at, sent.created_at.as_bytes());
            assert_eq!(read.updated_at, sent.updated_at.as_bytes());
            assert!(read.is_utf8());
        }
        // And back: the same bytes as the generated type's.
        assert_eq!(read.encode_to_vec(), sent.encode_to_vec());
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        let mut read = ListReply::decode(Bytes::from(
            pb::ListTasksResponse {
                tasks: vec![task(1, Some("d"))],
            }
            .encode_to_vec(),
        ))
        .expect("decoded");
        assert!(read.tasks[0].is_utf8());
        read.tasks[0].description = Some(Bytes::from_static(b"\xff"));
        assert!(!read.tasks[0].is_utf8());
        read.tasks[0].description = None;
        read.tasks[0].title = Bytes::from_static(b"\xc3");
        assert!(!read.tasks[0].is_utf8());
    }

    #[test]
    fn the_method_path_is_the_generated_clients() {
        use proto::tasks::tasks_server::SERVICE_NAME;
        assert_eq!(PATH, format!("/{SERVICE_NAME}/ListTasks"));
    }
}
