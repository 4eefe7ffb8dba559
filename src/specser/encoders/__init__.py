"""Pretrained speech encoders (WavLM, HuBERT, wav2vec2, Whisper's encoder) through `transformers`.

Needs the optional extra (``pip install 'specser[ssl]'``) and is imported only when an encoder is
used, so the base install and the Spec-ResNet inference path never load `transformers`.

    hub      load an encoder and its feature extractor by hub name or local folder, with a one-line
             error when it cannot be found offline
    hidden   every hidden layer of a clip, through the encoder's own input normalisation
    extract  a corpus's hidden layers into the disk cache (`specser features --encoder`)
    inputs   the encoders' input preparation in torch (fine-tuning and the encoder + head ONNX graph);
             needs only torch, so the model registry can import it
    pretrained  an encoder and head as one network from the hub (fine-tuning starts there), and a
             frozen-head model file with its encoder embedded
"""
