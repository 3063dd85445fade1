"""Exports AddSR (Xie et al., 2024) for addsr-bench's `addsr` runner: the six
ONNX graphs, SD-2's tokenizer files, RAM's tag list and thresholds, check
tensors and pipeline.json.

For users with the weights and PyTorch (the official code's environment:
diffusers 0.21, transformers 4.25, torch 2.x, see NJU-PCALab/AddSR's README):

  python3 models/export/addsr.py --code AddSR/ --sd2 stable-diffusion-2-base/ \\
      --addsr AddSR-weights/ --ram ram_swin_large_14m.pth --dape DAPE.pth \\
      --out .cache/models/addsr [--dtype fp32|fp16]
  addsr-bench models verify .cache/models/addsr

--code is a checkout of the official AddSR repository (its models/ and ram/
packages are imported from there); --sd2 is stabilityai/stable-diffusion-2-base
(text_encoder, tokenizer, vae, scheduler); --addsr holds AddSR's unet/ and
controlnet/ folders; --ram is RAM's Swin-L checkpoint and --dape AddSR's
fine-tuned tagger (test_addsr.py's --ram_ft_path). The modules are loaded as
test_addsr.py loads them.

Each graph wraps the official module's call as the pipeline makes it
(pipelines/pipeline_addsr.py), with fixed tensor names: text_encoder
(input_ids as float32 ids → last_hidden_state), vae_encoder (image in [−1, 1]
→ mean, logvar: addsr-bench samples), vae_decoder (latent → image), ram
(normalised 384² image → image_embeds, tag_logits), controlnet (sample,
timestep, encoder_hidden_states, controlnet_cond, image_encoder_hidden_states
→ down_0…down_11, mid) and unet (the same but the condition, plus the 13
residuals → noise_pred). Batch and size are free. Graphs over 2 GB keep their
weights in NAME.onnx.data beside them (listed in the manifest).

Before anything is written to --out, each module runs on random check
inputs; those inputs and the outputs go to check.bin, and
`addsr-bench models verify OUT` compares the ONNX graphs with them (the
export itself is checked with ONNX Runtime here when its Python package is
installed). --dtype fp16 converts the graphs with ONNX Runtime's float16
converter (float32 I/O kept; needs onnxruntime or onnxconverter-common).

models/export/selftest/addsr/run.sh runs this end to end on stand-in
modules in the official module layout (NOT AddSR) where none of the above
is installed.
"""
import argparse, json, os, shutil, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TIMESTEPS = [999, 749, 499, 249]
TOLERANCE = {'fp32': {'text_encoder': (1e-4, 1e-3), 'vae_encoder': (1e-4, 1e-3), 'vae_decoder': (1e-4, 1e-3),
                      'ram': (1e-4, 1e-3), 'controlnet': (1e-3, 1e-3), 'unet': (1e-3, 1e-3)},
             'fp16': {n: (3e-2, 3e-2) for n in ['text_encoder', 'vae_encoder', 'vae_decoder', 'ram', 'controlnet', 'unet']}}


def need(what, how):
    sys.exit(f'addsr.py needs {what}: {how}')


def imports(code):
    try:
        import torch  # noqa: F401
    except ImportError:
        need('PyTorch', 'pip install torch (or Debian: apt install python3-torch)')
    try:
        import onnx  # noqa: F401
    except ImportError:
        need('onnx', 'pip install onnx')
    if not os.path.isdir(os.path.join(code, 'models')) or not os.path.isdir(os.path.join(code, 'ram')):
        need('the official AddSR code', f'--code {code} has no models/ and ram/: git clone https://github.com/NJU-PCALab/AddSR')
    sys.path.insert(0, os.path.abspath(code))
    try:
        from diffusers import AutoencoderKL, DDPMScheduler
        from transformers import CLIPTextModel
    except ImportError as e:
        need('diffusers and transformers as AddSR pins them', f'pip install diffusers==0.21.0 transformers==4.25.0 ({e})')
    try:
        from models.controlnet import ControlNetModel
        from models.unet_2d_condition import UNet2DConditionModel
        from ram.models.ram_lora import ram
    except ImportError as e:
        need("the official code's own dependencies", f'pip install -r {code}/requirements.txt ({e})')
    return AutoencoderKL, DDPMScheduler, CLIPTextModel, ControlNetModel, UNet2DConditionModel, ram


def wrappers(torch, mods):
    nn = torch.nn

    class TextEncoder(nn.Module):
        def __init__(s):
            super().__init__(); s.m = mods['text_encoder']

        def forward(s, input_ids):
            return s.m(input_ids.long())[0]

    class VAEEncoder(nn.Module):
        def __init__(s):
            super().__init__(); s.vae = mods['vae']

        def forward(s, image):
            d = s.vae.encode(image).latent_dist
            return d.mean, d.logvar

    class VAEDecoder(nn.Module):
        def __init__(s):
            super().__init__(); s.vae = mods['vae']

        def forward(s, latent):
            return s.vae.decode(latent, return_dict=False)[0]

    class RAM(nn.Module):
        """generate_image_embeds and generate_tag's logits (ram_lora.py)."""
        def __init__(s):
            super().__init__(); s.m = mods['ram']

        def forward(s, image):
            m = s.m
            emb = m.image_proj(m.visual_encoder(image))
            label = torch.nn.functional.relu(m.wordvec_proj(m.label_embed))
            atts = torch.ones(emb.shape[:-1], dtype=torch.long)
            tag = m.tagging_head(encoder_embeds=label.unsqueeze(0).repeat(emb.shape[0], 1, 1), encoder_hidden_states=emb,
                                 encoder_attention_mask=atts, return_dict=False, mode='tagging')
            return emb, m.fc(tag[0]).squeeze(-1)

    class ControlNet(nn.Module):
        def __init__(s):
            super().__init__(); s.m = mods['controlnet']

        def forward(s, sample, timestep, encoder_hidden_states, controlnet_cond, image_encoder_hidden_states):
            down, mid = s.m(sample, timestep, encoder_hidden_states=encoder_hidden_states, controlnet_cond=controlnet_cond,
                            conditioning_scale=1.0, guess_mode=False, return_dict=False,
                            image_encoder_hidden_states=image_encoder_hidden_states)[:2]
            return tuple(down) + (mid,)

    class UNet(nn.Module):
        def __init__(s):
            super().__init__(); s.m = mods['unet']

        def forward(s, sample, timestep, encoder_hidden_states, image_encoder_hidden_states, *res):
            return s.m(sample, timestep, encoder_hidden_states=encoder_hidden_states,
                       down_block_additional_residuals=list(res[:12]), mid_block_additional_residual=res[12],
                       return_dict=False, image_encoder_hidden_states=image_encoder_hidden_states)[0]

    return {'text_encoder': TextEncoder(), 'vae_encoder': VAEEncoder(), 'vae_decoder': VAEDecoder(), 'ram': RAM(),
            'controlnet': ControlNet(), 'unet': UNet()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--code', required=True, help='checkout of NJU-PCALab/AddSR')
    ap.add_argument('--sd2', required=True, help='stable-diffusion-2-base folder')
    ap.add_argument('--addsr', required=True, help="AddSR's weights: unet/ and controlnet/")
    ap.add_argument('--ram', required=True, help="RAM's Swin-L checkpoint (ram_swin_large_14m.pth)")
    ap.add_argument('--dape', required=True, help="AddSR's fine-tuned tagger (DAPE.pth)")
    ap.add_argument('--out', required=True, help='pipeline folder to write (must not exist, or --overwrite)')
    ap.add_argument('--dtype', choices=['fp32', 'fp16'], default='fp32')
    ap.add_argument('--name', default='addsr')
    ap.add_argument('--check-size', type=int, default=128, help='check image size (a multiple of 64)')
    ap.add_argument('--overwrite', action='store_true')
    a = ap.parse_args()
    if os.path.exists(a.out) and not a.overwrite:
        sys.exit(f'{a.out} exists: give another --out or --overwrite')
    AutoencoderKL, DDPMScheduler, CLIPTextModel, ControlNetModel, UNet2DConditionModel, ram = imports(a.code)
    import torch, onnx
    from common import export_onnx
    from addsr_pipeline import DEFAULTS, fp16_exact, save_graph, sha256, write_check

    # Loaded as test_addsr.py loads them.
    mods = {'text_encoder': CLIPTextModel.from_pretrained(a.sd2, subfolder='text_encoder'),
            'vae': AutoencoderKL.from_pretrained(a.sd2, subfolder='vae'),
            'unet': UNet2DConditionModel.from_pretrained(a.addsr, subfolder='unet'),
            'controlnet': ControlNetModel.from_pretrained(a.addsr, subfolder='controlnet', low_cpu_mem_usage=False),
            'ram': ram(pretrained=a.ram, pretrained_condition=a.dape, image_size=384, vit='swin_l')}
    for m in mods.values():
        m.eval().requires_grad_(False)
    scheduler = DDPMScheduler.from_pretrained(a.sd2, subfolder='scheduler')
    graphs = wrappers(torch, mods)

    # Check inputs (float16-exact) and the modules' outputs on them.
    n, g = a.check_size, torch.Generator().manual_seed(0)
    rnd = lambda *s: fp16_exact(torch.randn(*s, generator=g))
    vocab = json.load(open(os.path.join(a.sd2, 'tokenizer', 'vocab.json')))
    ids = torch.randint(0, len(vocab), (1, 77), generator=g).float()
    with torch.no_grad():
        text = fp16_exact(graphs['text_encoder'](ids))
        ram_in = rnd(1, 3, 384, 384)
        ram_emb = fp16_exact(graphs['ram'](ram_in)[0])
    args = {'text_encoder': (ids,), 'vae_encoder': (fp16_exact(rnd(1, 3, n, n).clamp(-1, 1)),), 'vae_decoder': (rnd(1, 4, n // 8, n // 8),),
            'ram': (ram_in,)}
    ctrl = (rnd(1, 4, n // 8, n // 8), torch.tensor([999.0]), text, fp16_exact(torch.rand(1, 3, n, n, generator=g)), ram_emb)
    args['controlnet'] = ctrl
    with torch.no_grad():
        res = tuple(fp16_exact(r) for r in graphs['controlnet'](*ctrl))
    args['unet'] = (ctrl[0], ctrl[1], text, ram_emb) + res
    names = {'text_encoder': (['input_ids'], ['last_hidden_state']), 'vae_encoder': (['image'], ['mean', 'logvar']),
             'vae_decoder': (['latent'], ['image']), 'ram': (['image'], ['image_embeds', 'tag_logits'])}
    down = [f'down_{i}' for i in range(12)]
    names['controlnet'] = (['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'image_encoder_hidden_states'], down + ['mid'])
    names['unet'] = (['sample', 'timestep', 'encoder_hidden_states', 'image_encoder_hidden_states'] + down + ['mid'], ['noise_pred'])
    B = 'batch'
    axes = {'input_ids': {0: B}, 'last_hidden_state': {0: B}, 'mean': {0: B, 2: 'h', 3: 'w'}, 'logvar': {0: B, 2: 'h', 3: 'w'},
            'latent': {0: B, 2: 'h', 3: 'w'}, 'image_embeds': {0: B}, 'tag_logits': {0: B}, 'sample': {0: B, 2: 'h', 3: 'w'},
            'timestep': {0: B}, 'encoder_hidden_states': {0: B}, 'controlnet_cond': {0: B, 2: 'H', 3: 'W'},
            'image_encoder_hidden_states': {0: B}, 'noise_pred': {0: B, 2: 'h', 3: 'w'}}
    axes.update({r: {0: B, 2: r + '_h', 3: r + '_w'} for r in down + ['mid']})

    tmp = tempfile.mkdtemp(prefix='addsr-export-', dir=os.path.dirname(os.path.abspath(a.out)) or '.')
    try:
        cases, manifest_graphs = {}, {}
        ort = None
        try:
            import onnxruntime as ort
        except ImportError:
            print('onnxruntime (Python) is not installed: the graphs are checked by `addsr-bench models verify` instead', file=sys.stderr)
        if a.dtype == 'fp16':
            from to_fp16 import converter
            to16, how16 = converter()
        for name, mod in graphs.items():
            ins, outs = names[name]
            with torch.no_grad():
                want = mod(*args[name])
            want = want if isinstance(want, tuple) else (want,)
            cases[name] = (dict(zip(ins, args[name])), dict(zip(outs, want)))
            scratch = os.path.join(tmp, 'scratch-' + name)
            os.makedirs(scratch)
            p = os.path.join(scratch, name + '.onnx')
            # The image input of vae_encoder and controlnet_cond share the names H, W only per graph.
            io_axes = {k: v for k, v in axes.items() if k in ins or k in outs}
            if name == 'vae_encoder':
                io_axes['image'] = {0: B, 2: 'H', 3: 'W'}
            if name == 'vae_decoder':
                io_axes['image'] = {0: B, 2: 'H', 3: 'W'}
            if name == 'ram':
                io_axes['image'] = {0: B}
            with torch.no_grad():
                export_onnx(mod, args[name], p, input_names=ins, output_names=outs, dynamic_axes=io_axes,
                            opset_version=17, do_constant_folding=True)
            model = onnx.load(p)
            if a.dtype == 'fp16':
                model = to16(model, keep_io_types=True)
            extra = save_graph(onnx, model, tmp, name)
            shutil.rmtree(scratch)
            path = os.path.join(tmp, name + '.onnx')
            if ort is not None:
                sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
                got = sess.run(outs, {k: v.numpy() for k, v in zip(ins, args[name])})
                atol, rtol = TOLERANCE[a.dtype][name]
                for o, gv, wv in zip(outs, got, want):
                    if not torch.allclose(torch.from_numpy(gv), wv, atol=atol, rtol=rtol):
                        sys.exit(f'{name}: ONNX output {o} differs from PyTorch by up to {(torch.from_numpy(gv) - wv).abs().max():.3g}; nothing written')
            manifest_graphs[name] = {'file': name + '.onnx', 'sha256': sha256(path), 'dtype': a.dtype, 'inputs': ins, 'outputs': outs}
            if extra:
                manifest_graphs[name]['external_data'] = [{'file': f, 'sha256': sha256(os.path.join(tmp, f))} for f in extra]
            print(f'{name}: {os.path.getsize(path) / 1e6:.1f} MB' + (f' + {extra[0]}' if extra else ''), flush=True)
        check = write_check(tmp, cases, TOLERANCE[a.dtype])

        # Tokenizer: SD-2's files; its pad token is "!" (special_tokens_map.json).
        os.makedirs(os.path.join(tmp, 'tokenizer'))
        for f in ['vocab.json', 'merges.txt']:
            shutil.copy(os.path.join(a.sd2, 'tokenizer', f), os.path.join(tmp, 'tokenizer', f))
        pad = '<|endoftext|>'
        sp = os.path.join(a.sd2, 'tokenizer', 'special_tokens_map.json')
        if os.path.exists(sp):
            v = json.load(open(sp)).get('pad_token', pad)
            pad = v['content'] if isinstance(v, dict) else v
        # RAM's tags and per-class thresholds, as the loaded model has them.
        os.makedirs(os.path.join(tmp, 'ram'))
        r = mods['ram']
        with open(os.path.join(tmp, 'ram', 'tags.txt'), 'w') as f:
            f.write(''.join(str(t) + '\n' for t in r.tag_list))
        with open(os.path.join(tmp, 'ram', 'thresholds.txt'), 'w') as f:
            f.write(''.join(f'{float(t)!r}\n' for t in r.class_threshold.float()))
        if len(r.tag_list) != len(r.class_threshold):
            sys.exit(f'RAM has {len(r.tag_list)} tags and {len(r.class_threshold)} thresholds')
        files = lambda *p: {'file': os.path.join(*p), 'sha256': sha256(os.path.join(tmp, *p))}
        cfg = scheduler.config
        if cfg.get('beta_schedule') != 'scaled_linear' or cfg.get('prediction_type', 'epsilon') != 'epsilon':
            sys.exit(f"{a.sd2}/scheduler: {cfg.get('beta_schedule')} betas with {cfg.get('prediction_type')} prediction; AddSR uses SD-2-base's scaled_linear, epsilon")
        man = {
            'format': 'addsr-pipeline/1', 'name': a.name,
            'description': f'AddSR exported by models/export/addsr.py ({a.dtype})',
            'graphs': manifest_graphs,
            'tokenizer': {'vocab': files('tokenizer', 'vocab.json'), 'merges': files('tokenizer', 'merges.txt'),
                          'max_length': 77, 'pad_token': pad},
            'ram': {'tags': files('ram', 'tags.txt'), 'thresholds': files('ram', 'thresholds.txt'), 'input_size': 384,
                    'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225], 'tag_separator': ', '},
            'scheduler': {'beta_schedule': 'scaled_linear', 'beta_start': float(cfg['beta_start']), 'beta_end': float(cfg['beta_end']),
                          'num_train_timesteps': int(cfg['num_train_timesteps']), 'timesteps': TIMESTEPS, 'prediction_type': 'epsilon',
                          'alphas_cumprod': {str(t): float(scheduler.alphas_cumprod[t]) for t in TIMESTEPS}},
            'vae': {'scaling_factor': float(mods['vae'].config.scaling_factor), 'downscale': 8},
            'check': check,
            'source': {'code': os.path.abspath(a.code), 'sd2': os.path.abspath(a.sd2), 'addsr': os.path.abspath(a.addsr),
                       'ram': f'{os.path.basename(a.ram)} sha256 {sha256(a.ram)}', 'dape': f'{os.path.basename(a.dape)} sha256 {sha256(a.dape)}',
                       'torch': torch.__version__},
            'defaults': DEFAULTS,
        }
        with open(os.path.join(tmp, 'pipeline.json'), 'w') as f:
            json.dump(man, f, indent=1)
        if os.path.exists(a.out):
            shutil.rmtree(a.out)
        os.replace(tmp, a.out)
        tmp = None
        print(f'wrote {a.out}; check it with: addsr-bench models verify {a.out}')
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
