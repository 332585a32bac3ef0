// Placeholder until the markdown tests land.
#include <gtest/gtest.h>
