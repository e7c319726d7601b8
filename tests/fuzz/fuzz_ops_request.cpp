// libFuzzer target: the ops server's request handling (Beast's parser with our limits, then our
// routing) on arbitrary bytes. Every input gets a well-formed HTTP reply.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ballast/live/ops_server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ballast::live::OpsReply;
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string reply = ballast::live::OpsServer::AnswerRaw(request, [](std::string_view path) {
    return path == "/health" ? OpsReply{200, "text/plain", "ok\n"}
                             : OpsReply{404, "text/plain", "not found\n"};
  });
  if (reply.rfind("HTTP/1.", 0) != 0) std::abort();
  return 0;
}
