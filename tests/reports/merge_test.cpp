// Placeholder until the merge tests land.
#include <gtest/gtest.h>
