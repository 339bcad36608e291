#include "train/loss_curve.h"

#include <algorithm>
#include <cstdio>

#include "train/atomic_file.h"

namespace bitnet::train {
namespace {

constexpr double kWidth = 640, kHeight = 360, kLeft = 56, kRight = 16, kTop = 16, kBottom = 40;

std::string polyline(const CurvePoints &points, int64_t max_step, double max_loss, const char *colour) {
    std::string out = std::string("<polyline fill=\"none\" stroke=\"") + colour + "\" stroke-width=\"1.5\" points=\"";
    char buffer[64];
    for (const auto &[step, loss] : points) {
        const double x = kLeft + (kWidth - kLeft - kRight) * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, max_step));
        const double y = kTop + (kHeight - kTop - kBottom) * (1.0 - std::min(loss, max_loss) / max_loss);
        std::snprintf(buffer, sizeof buffer, "%.1f,%.1f ", x, y);
        out += buffer;
    }
    return out + "\"/>\n";
}

}  // namespace

void write_loss_curve_svg(const std::string &path, const CurvePoints &train, const CurvePoints &validation) {
    int64_t max_step = 1;
    double max_loss = 0.1;
    for (const CurvePoints *points : {&train, &validation}) {
        for (const auto &[step, loss] : *points) max_step = std::max(max_step, step), max_loss = std::max(max_loss, loss);
    }
    std::string svg;
    char buffer[256];
    std::snprintf(buffer, sizeof buffer,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  kWidth, kHeight);
    svg += buffer;
    std::snprintf(buffer, sizeof buffer,
                  "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
                  "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
                  kLeft, kTop, kLeft, kHeight - kBottom, kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom);
    svg += buffer;
    std::snprintf(buffer, sizeof buffer,
                  "<text x=\"4\" y=\"%.0f\">%.2f</text><text x=\"4\" y=\"%.0f\">0</text>\n"
                  "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">step %lld</text>\n"
                  "<text x=\"%.0f\" y=\"%.0f\">loss (nats/token): training (blue), validation (red)</text>\n",
                  kTop + 4, max_loss, kHeight - kBottom, kWidth - kRight, kHeight - 12, static_cast<long long>(max_step),
                  kLeft + 8, kTop + 12);
    svg += buffer;
    svg += polyline(train, max_step, max_loss, "#1f5fbf");
    svg += polyline(validation, max_step, max_loss, "#c0392b");
    svg += "</svg>\n";
    write_file_atomically(path, std::vector<uint8_t>(svg.begin(), svg.end()));
}

}  // namespace bitnet::train
