// Placeholder until the html tests land.
#include <gtest/gtest.h>
