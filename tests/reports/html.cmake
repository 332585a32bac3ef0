# reports.html.chromium: the HTML report of the merged sample matrix, opened in
# a real browser (Debian's chromium, headless): the DOM it builds shows the
# cells, the conflict and the deviation, and a screenshot is not blank.
# Skips with the reason (exit 77) when chromium is not installed.
add_executable(write_sample_html write_sample_html.cpp matrix_sample.cpp)
target_link_libraries(write_sample_html PRIVATE ilk_reports ilk_core)
target_include_directories(write_sample_html PRIVATE ${CMAKE_CURRENT_LIST_DIR})

add_test(NAME reports.html.chromium
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/html_render.sh" "$<TARGET_FILE:write_sample_html>"
          "${CMAKE_CURRENT_BINARY_DIR}/html-render")
set_tests_properties(reports.html.chromium PROPERTIES
  LABELS reports
  SKIP_RETURN_CODE 77
  TIMEOUT 180)
