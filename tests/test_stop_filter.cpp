// The stop-string filter shared by `bitnet run`/`chat` and `bitnet serve` (tools/common/stop_filter.h):
// expected outputs follow from its definition (text up to the earliest stop string; nothing that
// could begin a stop string is sent early; empty stop strings ignored, as llama-server does).
#include <gtest/gtest.h>

#include "common/stop_filter.h"

namespace {

using bitnet_tools::StopFilter;

TEST(StopFilter, HoldsBackAPossibleStartAndCutsAtTheStopString) {
    StopFilter filter({"END"});
    std::string out;
    EXPECT_FALSE(filter.push("Hel", &out));
    EXPECT_EQ(out, "Hel");
    EXPECT_FALSE(filter.push("lo EN", &out));
    EXPECT_EQ(out, "Hello ");  // "EN" may begin "END": held back
    EXPECT_TRUE(filter.push("D and more", &out));
    EXPECT_EQ(out, "Hello ");  // neither the stop string nor what follows it
}

TEST(StopFilter, AFalseStartIsSentOnceItCannotBeAStopString) {
    StopFilter filter({"END"});
    std::string out;
    EXPECT_FALSE(filter.push("xEN", &out));
    EXPECT_EQ(out, "x");
    EXPECT_FALSE(filter.push("X", &out));
    EXPECT_EQ(out, "xENX");
}

TEST(StopFilter, FlushSendsWhatWasHeldBack) {
    StopFilter filter({"END"});
    std::string out;
    EXPECT_FALSE(filter.push("xEN", &out));
    filter.flush(&out);
    EXPECT_EQ(out, "xEN");
}

TEST(StopFilter, TheEarliestStopStringWinsWhateverItsPlaceInTheList) {
    for (const std::vector<std::string> &stop : {std::vector<std::string>{"world", "o"}, {"o", "world"}}) {
        StopFilter filter(stop);
        std::string out;
        EXPECT_TRUE(filter.push("hello world", &out));
        EXPECT_EQ(out, "hell");
    }
}

TEST(StopFilter, HoldsBackTheLongestPossibleStart) {
    StopFilter filter({"abcd", "bx"});
    std::string out;
    EXPECT_FALSE(filter.push("zabc", &out));
    EXPECT_EQ(out, "z");  // "abc" may begin "abcd" (and "bc" cannot begin "bx")
    EXPECT_TRUE(filter.push("d!", &out));
    EXPECT_EQ(out, "z");
}

TEST(StopFilter, AShorterStopStringInsideALongerOneStops) {
    StopFilter filter({"abcd", "ab"});
    std::string out;
    EXPECT_TRUE(filter.push("xxabc", &out));
    EXPECT_EQ(out, "xx");
}

TEST(StopFilter, EmptyStopStringsAreIgnored) {
    StopFilter only_empty({""});
    std::string out;
    EXPECT_FALSE(only_empty.push("abc", &out));
    EXPECT_EQ(out, "abc");

    StopFilter mixed({"", "c", ""});
    std::string cut;
    EXPECT_TRUE(mixed.push("abcd", &cut));
    EXPECT_EQ(cut, "ab");
}

TEST(StopFilter, NoStopStringsPassesEverythingThrough) {
    StopFilter filter;
    std::string out;
    EXPECT_FALSE(filter.push("a", &out));
    EXPECT_FALSE(filter.push("b", &out));
    EXPECT_EQ(out, "ab");
}

}  // namespace
