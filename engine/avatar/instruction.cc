#include "engine/avatar/instruction.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace fg {

namespace {

struct Token {
  std::string text;  // lower case
  std::string orig;
  int column = 0;  // 1-based
};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '%' ||
         c == '_' || c == '\'';
}

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (IsWordChar(c)) {
      while (j < s.size() && IsWordChar(s[j])) ++j;
      // A trailing '.' ends a sentence, not a number ("over 2 s."): split it off.
      while (j > i + 1 && s[j - 1] == '.') --j;
    }
    Token t;
    t.orig = std::string(s.substr(i, j - i));
    t.text = t.orig;
    for (char& ch : t.text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    t.column = static_cast<int>(i) + 1;
    out.push_back(std::move(t));
    i = j;
  }
  return out;
}

// A numeric prefix ("1.5", "-2", "50") and the rest ("s", "%", ""); false when the token
// does not start with a number.
bool SplitNumber(const std::string& s, double* value, std::string* rest) {
  size_t k = 0;
  if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
  const size_t digits_from = k;
  bool digit = false;
  while (k < s.size() && (std::isdigit(static_cast<unsigned char>(s[k])) || s[k] == '.')) {
    digit |= s[k] != '.';
    ++k;
  }
  if (!digit || k == digits_from) return false;
  char* end = nullptr;
  const std::string num = s.substr(0, k);
  *value = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size()) return false;
  *rest = s.substr(k);
  return true;
}

struct WordValue {
  const char* word;
  float value;
};
constexpr WordValue kIntensityWords[] = {
    {"barely", 0.15f},    {"slightly", 0.3f},   {"mildly", 0.35f}, {"somewhat", 0.5f},
    {"moderately", 0.5f}, {"half", 0.5f},       {"fairly", 0.6f},  {"rather", 0.6f},
    {"quite", 0.7f},      {"pretty", 0.7f},     {"really", 0.9f},  {"very", 1.0f},
    {"fully", 1.0f},      {"completely", 1.0f}, {"totally", 1.0f}, {"extremely", 1.0f},
};
constexpr WordValue kCountWords[] = {
    {"zero", 0}, {"a", 1},   {"an", 1},    {"one", 1},   {"two", 2},  {"three", 3}, {"four", 4},
    {"five", 5}, {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10},  {"half", 0.5f},
};
struct Synonyms {
  const char* expression;
  std::initializer_list<const char*> words;
};
const Synonyms kSynonyms[] = {
    {"neutral", {"neutral", "calm", "relaxed", "rest", "resting", "blank"}},
    {"happy", {"happy", "happiness", "joy", "joyful", "smiling", "smile", "glad", "pleased"}},
    {"sad", {"sad", "sadness", "unhappy", "sorrow", "sorrowful", "upset"}},
    {"surprise", {"surprise", "surprised", "astonished", "astonishment", "amazed", "shocked"}},
    {"fear", {"fear", "afraid", "scared", "fearful", "frightened", "terrified"}},
    {"anger", {"anger", "angry", "mad", "furious", "annoyed"}},
    {"disgust", {"disgust", "disgusted", "revolted", "grossed"}},
};
constexpr const char* kFillers[] = {"a", "an", "the", "look", "looking", "face"};
constexpr const char* kUnitsS[] = {"s", "sec", "secs", "second", "seconds"};
constexpr const char* kUnitsMs[] = {"ms", "msec", "millisecond", "milliseconds"};
constexpr const char* kUnitsMin[] = {"min", "mins", "minute", "minutes"};

template <typename R>
bool In(const R& range, const std::string& w) {
  for (const auto& x : range)
    if (w == x) return true;
  return false;
}

struct Fail {
  InstructionError e;
};

class Parser {
 public:
  Parser(std::string_view text, const BlendshapeBasis& basis)
      : text_(text), toks_(Tokenize(text)), basis_(basis) {
    lower_names_.reserve(basis.size());
    for (const std::string& n : basis.names()) {
      std::string l = n;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      lower_names_.push_back(l);
    }
  }

  std::vector<Keyframe> Run() {
    if (toks_.empty()) throw Fail{{0, "", "empty instruction: nothing to do"}};
    bool first = true;
    while (true) {
      const size_t before = pos_;
      SkipSeparators();
      if (AtEnd()) break;
      if (!first && pos_ == before)
        Error(Peek(), "expected ',' or 'then' between steps, found '" + Peek().orig + "'");
      first = false;
      Step();
    }
    if (keys_.empty()) throw Fail{{0, "", "the instruction has no step"}};
    return std::move(keys_);
  }

 private:
  [[noreturn]] void Error(const Token& t, std::string message) {
    throw Fail{{t.column, t.orig, std::move(message)}};
  }
  [[noreturn]] void ErrorAtEnd(std::string message) {
    throw Fail{{static_cast<int>(text_.size()) + 1, "", std::move(message)}};
  }
  bool AtEnd() const { return pos_ >= toks_.size(); }
  const Token& Peek(size_t ahead = 0) const {
    static const Token kEnd;
    return pos_ + ahead < toks_.size() ? toks_[pos_ + ahead] : kEnd;
  }
  bool Is(const char* w, size_t ahead = 0) const {
    return pos_ + ahead < toks_.size() && toks_[pos_ + ahead].text == w;
  }

  void SkipSeparators() {
    while (!AtEnd()) {
      if (Is(",") || Is(";") || Is(".") || Is("then") || Is("next")) {
        ++pos_;
      } else if (Is("and") && Is("then", 1)) {
        pos_ += 2;
      } else if (Is("after") && Is("that", 1)) {
        pos_ += 2;
      } else {
        break;
      }
    }
  }

  void Step() {
    if (Is("hold") || Is("wait") || Is("pause") || Is("stay")) {
      const Token& w = Peek();
      ++pos_;
      if (Is("for")) ++pos_;
      if (AtEnd() || IsSeparatorHere())
        Error(AtEnd() ? w : Peek(), "'" + w.orig + "' needs a duration, e.g. '" + w.orig + " 1 s'");
      const double d = Duration();
      if (keys_.empty()) Push(0, std::vector<float>(basis_.size(), 0.0f));
      Push(keys_.back().t + d, keys_.back().weights);
      return;
    }
    std::optional<std::vector<float>> from;
    if (Is("from")) {
      ++pos_;
      from = Pose();
      if (!Is("to")) {
        if (AtEnd()) ErrorAtEnd("'from ...' needs 'to ...'");
        Error(Peek(), "expected 'to' after 'from ...', found '" + Peek().orig + "'");
      }
      ++pos_;
    } else if (Is("go") && Is("to", 1)) {
      pos_ += 2;
    } else if (Is("become") || Is("to")) {
      ++pos_;
    }
    std::vector<float> target = Pose();
    std::optional<double> d;
    if (Is("over") || Is("in") || Is("for") || Is("during") || Is("within")) {
      const Token& w = Peek();
      ++pos_;
      if (AtEnd()) ErrorAtEnd("'" + w.orig + "' needs a duration, e.g. '" + w.orig + " 1 s'");
      d = Duration();
    }
    if (from) {
      if (keys_.empty())
        Push(0, *from);
      else
        Push(keys_.back().t, *from);
      Push(keys_.back().t + d.value_or(kDefaultTransitionS), std::move(target));
    } else if (keys_.empty()) {
      if (d) {
        Push(0, std::vector<float>(basis_.size(), 0.0f));
        Push(*d, std::move(target));
      } else {
        Push(0, std::move(target));
      }
    } else {
      Push(keys_.back().t + d.value_or(kDefaultTransitionS), std::move(target));
    }
  }

  bool IsSeparatorHere() const {
    return Is(",") || Is(";") || Is(".") || Is("then") || Is("next") ||
           (Is("and") && Is("then", 1)) || (Is("after") && Is("that", 1));
  }

  void Push(double t, std::vector<float> w) { keys_.push_back({t, std::move(w)}); }

  std::vector<float> Pose() {
    std::vector<float> w(basis_.size(), 0.0f);
    while (true) {
      Term(w);
      if ((Is("and") && !Is("then", 1)) || Is("with") || Is("plus") || Is("+")) {
        ++pos_;
        continue;
      }
      break;
    }
    for (float& x : w) x = std::clamp(x, 0.0f, 1.0f);
    return w;
  }

  // An amount at the cursor (a number in 0..1 or a percentage); nullopt when the token is
  // not a number. Consumes it.
  std::optional<float> Amount() {
    if (AtEnd()) return std::nullopt;
    const Token& t = Peek();
    double v = 0;
    std::string rest;
    if (!SplitNumber(t.text, &v, &rest)) return std::nullopt;
    bool percent = rest == "%";
    if (!rest.empty() && !percent) {
      if (In(kUnitsS, rest) || In(kUnitsMs, rest) || In(kUnitsMin, rest))
        Error(t, "a duration needs 'over', 'in' or 'for' before it");
      Error(t, "not a number: '" + t.orig + "'");
    }
    ++pos_;
    if (!percent && Is("%")) {
      percent = true;
      ++pos_;
    }
    if (percent) {
      if (!(v >= 0 && v <= 100)) Error(t, "intensity " + t.orig + " is outside 0..100%");
      return static_cast<float>(v / 100);
    }
    if (!(v >= 0 && v <= 1)) {
      // A bare number followed by a unit is a duration without 'over'.
      if (In(kUnitsS, Peek().text) || In(kUnitsMs, Peek().text) || In(kUnitsMin, Peek().text))
        Error(t, "a duration needs 'over', 'in' or 'for' before it");
      Error(t, "intensity " + t.orig + " is outside 0..1 (or 0..100%)");
    }
    return static_cast<float>(v);
  }

  void Term(std::vector<float>& w) {
    if (AtEnd()) ErrorAtEnd("expected an expression or a blendshape name");
    std::optional<float> intensity;
    // "a little", "a bit" are intensities; other fillers are skipped.
    if (Is("a") && (Is("little", 1) || Is("bit", 1))) {
      pos_ += 2;
      intensity = 0.3f;
    }
    if (!intensity) {
      for (const WordValue& iw : kIntensityWords)
        if (Is(iw.word)) {
          intensity = iw.value;
          ++pos_;
          break;
        }
    }
    if (!intensity) intensity = Amount();
    while (!AtEnd() && In(kFillers, Peek().text) && !IsNameAt(0)) ++pos_;
    if (AtEnd()) ErrorAtEnd("expected an expression or a blendshape name");
    const Token& name = Peek();
    std::vector<float> add;
    if (const Expression* e = ExpressionFor(name.text)) {
      add = ExpressionWeights(*e, basis_, 1.0f);
    } else if (int i = ShapeIndex(name.text); i >= 0) {
      add.assign(basis_.size(), 0.0f);
      add[i] = 1;
    } else {
      double v = 0;
      std::string rest;
      if (SplitNumber(name.text, &v, &rest))
        Error(name, "expected an expression or a blendshape name after the intensity, found '" +
                        name.orig + "'");
      Error(name, "unknown word '" + name.orig +
                      "': expected an expression (neutral, happy, sad, surprise, fear, anger, "
                      "disgust or a synonym), an ARKit blendshape name (e.g. jawOpen), an "
                      "intensity (slightly, very, 0..1) or a duration ('over 1 s')");
    }
    ++pos_;
    if (const std::optional<float> after = Amount()) {
      if (intensity) Error(toks_[pos_ - 1], "intensity given twice for '" + name.orig + "'");
      intensity = after;
    }
    const float k = intensity.value_or(kDefaultIntensity);
    for (size_t i = 0; i < w.size(); ++i) w[i] += k * add[i];
  }

  bool IsNameAt(size_t ahead) const {
    if (pos_ + ahead >= toks_.size()) return false;
    const std::string& t = toks_[pos_ + ahead].text;
    return ExpressionFor(t) != nullptr || ShapeIndex(t) >= 0;
  }

  static const Expression* ExpressionFor(const std::string& word) {
    return ExpressionForWord(word);
  }
  int ShapeIndex(const std::string& word) const {
    for (size_t i = 0; i < lower_names_.size(); ++i)
      if (lower_names_[i] == word) return static_cast<int>(i);
    return -1;
  }

  // count unit, in seconds.
  double Duration() {
    const Token& t = Peek();
    double count = 0;
    std::string unit;
    bool have_count = false;
    if (SplitNumber(t.text, &count, &unit)) {
      have_count = true;
      ++pos_;
    } else {
      for (const WordValue& cw : kCountWords)
        if (t.text == cw.word) {
          count = cw.value;
          have_count = true;
          ++pos_;
          break;
        }
      if (have_count && t.text == "half" && (Is("a") || Is("an"))) ++pos_;  // half a second
    }
    if (!have_count)
      Error(t, "expected a duration (e.g. '1.5 s', 'two seconds'), found '" + t.orig + "'");
    // "one and a half", "2 and a half"
    if (unit.empty() && Is("and") && Is("a", 1) && Is("half", 2)) {
      count += 0.5;
      pos_ += 3;
    }
    if (count < 0) Error(t, "duration " + t.orig + " is negative");
    if (unit.empty()) {
      if (AtEnd()) ErrorAtEnd("the duration needs a unit (s, ms, seconds, ...)");
      unit = Peek().text;
      const Token& u = Peek();
      if (!In(kUnitsS, unit) && !In(kUnitsMs, unit) && !In(kUnitsMin, unit))
        Error(u, "expected a time unit (s, ms, seconds, minutes), found '" + u.orig + "'");
      ++pos_;
    } else if (!In(kUnitsS, unit) && !In(kUnitsMs, unit) && !In(kUnitsMin, unit)) {
      Error(t, "unknown time unit in '" + t.orig + "' (s, ms, seconds, minutes)");
    }
    if (!std::isfinite(count)) Error(t, "duration " + t.orig + " is not finite");
    if (In(kUnitsMs, unit)) return count / 1000;
    if (In(kUnitsMin, unit)) return count * 60;
    return count;
  }

  std::string_view text_;
  std::vector<Token> toks_;
  const BlendshapeBasis& basis_;
  std::vector<std::string> lower_names_;
  size_t pos_ = 0;
  std::vector<Keyframe> keys_;
};

}  // namespace

const Expression* ExpressionForWord(std::string_view word) {
  std::string w(word);
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Synonyms& s : kSynonyms)
    if (In(s.words, w)) return FindExpression(s.expression);
  return nullptr;
}

InstructionResult ParseInstruction(std::string_view text, const BlendshapeBasis& basis) {
  InstructionResult r;
  try {
    Parser p(text, basis);
    r.keyframes = p.Run();
  } catch (const Fail& f) {
    r.keyframes.clear();
    r.error = f.e;
  }
  return r;
}

std::string FormatInstructionError(const InstructionError& e) {
  std::string s = "column " + std::to_string(e.column);
  if (!e.word.empty()) s += " (\"" + e.word + "\")";
  return s + ": " + e.message;
}

}  // namespace fg
