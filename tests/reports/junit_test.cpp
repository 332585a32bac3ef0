// Placeholder until the junit tests land.
#include <gtest/gtest.h>
