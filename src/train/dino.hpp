#pragma once

// The pieces of one DINO step that the trainer and the benchmark share. Private to the train
// module (includes torch.h).

#include <torch/torch.h>

#include "encoder.hpp"
#include "mgap/train.hpp"

namespace mgap::train_detail {

// Copies every parameter of `from` into `to` (same architecture).
void copy_weights(DinoNetwork& from, DinoNetwork& to);

// teacher <- momentum * teacher + (1 - momentum) * student, parameter by parameter.
void update_teacher(DinoNetwork& student, DinoNetwork& teacher, double momentum);

// Computes the DINO loss of student and teacher outputs [batch_size, num_prototypes] on views a and
// b, with the centre [num_prototypes] and the temperatures of `options`. It is the cross-entropy of
// each view's student distribution against the other view's centred, sharpened teacher
// distribution, averaged over both pairings and the batch.
torch::Tensor dino_loss(const torch::Tensor& student_a, const torch::Tensor& student_b,
                        const torch::Tensor& teacher_a, const torch::Tensor& teacher_b,
                        const torch::Tensor& center, const TrainOptions& options);

}  // namespace mgap::train_detail
