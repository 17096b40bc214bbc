// The Unity half of the Agents sample: loads the weights (StreamingAssets, or a seeded initialization), then calls
// AgentsBrainCore.Frame once per Update, one multi-agent Step for every agent, and draws the agents as gizmos.
#nullable enable
using System.Collections;
using System.IO;
using UnityEngine;
using UnityEngine.Networking;

namespace RnnGen.Samples.Unity
{
    public sealed class AgentsBrain : MonoBehaviour
    {
        [SerializeField] private int agents = 64;
        [SerializeField] private int seed = 1;
        [Tooltip("A file in Assets/StreamingAssets written by SaveSafetensors (or PyTorch's safetensors); none: random weights.")]
        [SerializeField] private string weightsFile = "agents.safetensors";
        [SerializeField] private Transform? target = null;

        private AgentsBrainCore? core;

        private IEnumerator Start()
        {
            byte[]? weights = null;
            string path = Path.Combine(Application.streamingAssetsPath, weightsFile);
            if (path.Contains("://"))
            {
                // Android (inside the APK) and WebGL: StreamingAssets is a URL, not a folder.
                using (UnityWebRequest request = UnityWebRequest.Get(path))
                {
                    yield return request.SendWebRequest();
                    if (request.result == UnityWebRequest.Result.Success) weights = request.downloadHandler.data;
                }
            }
            else if (File.Exists(path))
            {
                weights = File.ReadAllBytes(path);
            }

            core = new AgentsBrainCore(agents, weights == null ? null : new MemoryStream(weights), seed);
            Debug.Log(weights == null ? $"AgentsBrain: no {weightsFile} in StreamingAssets, random weights (seed {seed})" : $"AgentsBrain: weights from {weightsFile}");
        }

        private void Update()
        {
            if (core == null) return;
            Vector3 goal = target != null ? target.position : Vector3.zero;
            core.Frame(goal.x, goal.z, Time.deltaTime);
        }

        private void OnDrawGizmos()
        {
            if (core == null) return;
            Gizmos.color = Color.cyan;
            for (int i = 0; i < core.Agents; i++)
            {
                System.ReadOnlySpan<float> p = core.Position(i);
                Gizmos.DrawSphere(new Vector3(p[0], 0f, p[1]), 0.2f);
            }
        }
    }
}
