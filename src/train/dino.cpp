#include "dino.hpp"

namespace mgap::train_detail {

void copy_weights(DinoNetwork& from, DinoNetwork& to) {
  torch::NoGradGuard no_grad;
  auto source = from->parameters();
  auto target = to->parameters();
  for (std::size_t index = 0; index < source.size(); ++index) {
    target[index].copy_(source[index]);
  }
}

void update_teacher(DinoNetwork& student, DinoNetwork& teacher, double momentum) {
  torch::NoGradGuard no_grad;
  auto source = student->parameters();
  auto target = teacher->parameters();
  for (std::size_t index = 0; index < source.size(); ++index) {
    target[index].mul_(momentum).add_(source[index].detach(), 1.0 - momentum);
  }
}

torch::Tensor dino_loss(const torch::Tensor& student_a, const torch::Tensor& student_b,
                        const torch::Tensor& teacher_a, const torch::Tensor& teacher_b,
                        const torch::Tensor& center, const TrainOptions& options) {
  const torch::Tensor target_a = torch::softmax((teacher_a - center) / options.teacher_temperature, 1);
  const torch::Tensor target_b = torch::softmax((teacher_b - center) / options.teacher_temperature, 1);
  const torch::Tensor log_student_a = torch::log_softmax(student_a / options.student_temperature, 1);
  const torch::Tensor log_student_b = torch::log_softmax(student_b / options.student_temperature, 1);
  const torch::Tensor loss_ab = -(target_a * log_student_b).sum(1).mean();
  const torch::Tensor loss_ba = -(target_b * log_student_a).sum(1).mean();
  return 0.5 * (loss_ab + loss_ba);
}

}  // namespace mgap::train_detail
