#ifndef MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DOCKERFILE_READER_H_
#define MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DOCKERFILE_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moq_stats::deploy::test {

// What the final stage of a Dockerfile says about how its container runs.
struct DockerfileFinalStage {
  std::string from;                     // the FROM image
  std::vector<std::string> entrypoint;  // exec form only
  std::vector<std::string> cmd;         // exec form only; empty when none
  bool has_cmd = false;
  std::vector<std::string> expose;  // as written, e.g. "50051/tcp"
  std::string stop_signal;          // empty when none
  std::string user;                 // empty when none
  std::vector<std::string> run;     // every RUN of the stage, continuations joined
};

// Reads the instructions of a Dockerfile (comments and parser directives
// skipped, backslash continuations joined) and returns its final stage.
// Fails, naming the line, for a shell-form ENTRYPOINT or CMD (the daemon must
// be PID 1 to get SIGTERM), a final stage without ENTRYPOINT, or a file
// without FROM. Only what this project's Dockerfile uses is understood: the
// default escape character, no here-documents, and ARG substitution only in
// FROM, from the defaults of ARGs before the first FROM (an ARG with no
// default there fails).
absl::StatusOr<DockerfileFinalStage> ReadDockerfile(absl::string_view text);

// Parses a JSON array of strings, as in the exec form of ENTRYPOINT and CMD.
// Fails on anything else, and on text after the closing bracket.
absl::StatusOr<std::vector<std::string>> ParseJsonStringArray(absl::string_view text);

}  // namespace moq_stats::deploy::test

#endif  // MOQ_STATS_TESTS_DEPLOY_TEST_TOOLS_DOCKERFILE_READER_H_
