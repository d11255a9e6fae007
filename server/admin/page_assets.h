#ifndef MOQ_STATS_SERVER_ADMIN_PAGE_ASSETS_H_
#define MOQ_STATS_SERVER_ADMIN_PAGE_ASSETS_H_

// The dashboard page's files (server/admin/page/), embedded into the binary
// at build time (server/admin/embed_page.cmake writes their definition).

#include <string_view>

namespace moq_stats::server {

struct PageAsset {
  std::string_view path;  // as requested: "/", "/app.js", "/style.css"
  std::string_view content_type;
  std::string_view body;
};

// The asset served at `path`, or null.
const PageAsset* FindPageAsset(std::string_view path);

}  // namespace moq_stats::server

#endif  // MOQ_STATS_SERVER_ADMIN_PAGE_ASSETS_H_
