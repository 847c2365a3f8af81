#pragma once

namespace sluice::app {
inline constexpr const char* kSluiceVersion = "0.1.0";
inline constexpr const char* kSluiceReleaseDate = "2026/11/24";
}  // namespace sluice::app
